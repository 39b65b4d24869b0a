"""The form expression language: parser, type checker, Python evaluator, and
the browser evaluator (workflows/static/js/expressions.js, run under Node)
against the one shared table of vectors in tests/expression_vectors.json."""
import json
import math
import os
import random
import re
import shutil
import subprocess
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from forms.expressions import Expression, ExpressionError, compile_expression, is_truthy

ROOT = Path(__file__).resolve().parent.parent
VECTORS_FILE = ROOT / "tests" / "expression_vectors.json"
JS_TEST = ROOT / "tests" / "js" / "expressions.test.js"
JS_EVALUATOR = ROOT / "workflows" / "static" / "js" / "expressions.js"
PY_PACKAGE = ROOT / "forms" / "expressions"
DATA = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
VECTORS = DATA["vectors"]
ERRORS = DATA["errors"]
NODE = shutil.which("node")


# --------------------------------------------------------------------------
# Helpers: JSON vector values → Python values, results → JSON, comparison
# --------------------------------------------------------------------------


def _convert(value, typ):
    if value is None:
        return None
    if typ == "date":
        return date.fromisoformat(value)
    if typ == "datetime":
        return datetime.fromisoformat(value)
    if typ.startswith("list[") and isinstance(value, list):
        return [_convert(item, typ[5:-1]) for item in value]
    return value


def _convert_row(row, types):
    return {key: _convert(value, types.get(key, "any")) for key, value in row.items()}


def python_inputs(vector):
    names = vector.get("names", {})
    columns = vector.get("columns", {})
    values = {}
    for key, value in vector["values"].items():
        if key in columns and isinstance(value, list):
            values[key] = [_convert_row(row, columns[key]) for row in value]
        else:
            values[key] = _convert(value, names.get(key, "any"))
    row = vector.get("row")
    if row is not None:
        row = _convert_row(row, vector.get("row_names", {}))
    return values, row, date.fromisoformat(vector["today"])


def compile_vector(vector):
    return compile_expression(vector["expr"], vector.get("names", {}), row_names=vector.get("row_names"),
                              columns=vector.get("columns"))


def as_json(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [as_json(item) for item in value]
    return value


def same(actual, expected):
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=0, abs_tol=1e-9)
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(same(a, e) for a, e in zip(actual, expected)))
    return type(actual) is type(expected) and actual == expected


# --------------------------------------------------------------------------
# The shared vectors
# --------------------------------------------------------------------------


def test_vector_table_is_big_enough():
    assert len(VECTORS) >= 60
    assert len(ERRORS) >= 17
    sources = " ".join(v["expr"] for v in VECTORS)
    for needle in ("+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", " and ", " or ", "not ", " in ",
                   " not in ", "[", "row.", "roster.", "today(", "len(", "sum(", "count(", "min(", "max(",
                   "round(", "date_diff(", "years_since(", "birth_date(", "matches(", "coalesce(", "if_else(",
                   "date(", "文明"):
        assert needle in sources, needle


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{i}:{v['expr']}" for i, v in enumerate(VECTORS)])
def test_vector_in_python(vector):
    expression = compile_vector(vector)
    values, row, today = python_inputs(vector)
    result = expression.evaluate(values, row=row, today=today)
    assert same(as_json(result), vector["expected"]), (vector["expr"], result, vector["expected"])
    # The tree survives a JSON round trip unchanged (it is what the browser gets).
    assert json.loads(json.dumps(expression.to_json())) == expression.to_json()


@pytest.mark.parametrize("case", ERRORS, ids=[f"{i}:{c['expr'][:40]}" for i, c in enumerate(ERRORS)])
def test_error(case):
    with pytest.raises(ExpressionError) as info:
        compile_expression(case["expr"], case.get("names", {}), row_names=case.get("row_names"),
                           columns=case.get("columns"), expect=case.get("expect"))
    assert case["error"] in str(info.value)
    assert len(str(info.value)) < 200


def _node_payload():
    payload = []
    for vector in VECTORS:
        payload.append({
            "expr": vector["expr"],
            "tree": compile_vector(vector).to_json(),
            "values": vector["values"],
            "row": vector.get("row"),
            "today": vector["today"],
            "expected": vector["expected"],
            "names": vector.get("names", {}),
            "columns": vector.get("columns", {}),
        })
    return payload


def require_node():
    """Node.js runs the browser evaluator; without it, skip — or fail when CI requires every service."""
    if NODE is None:
        message = "node is not on PATH: the browser evaluator cannot be checked"
        if os.environ.get("WENMING_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " and WENMING_REQUIRE_SERVICES=1")
        pytest.skip(message)


def _run_node(env_file):
    env = {key: value for key, value in os.environ.items() if key != "EXPRESSION_VECTORS"}
    if env_file is not None:
        env["EXPRESSION_VECTORS"] = str(env_file)
    return subprocess.run([NODE, "--test", str(JS_TEST)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_every_vector_in_node(tmp_path):
    require_node()
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 18, f"node:test needs Node 18+, found {version}"
    vectors_file = tmp_path / "vectors.json"
    vectors_file.write_text(json.dumps(_node_payload(), ensure_ascii=False), encoding="utf-8")
    result = _run_node(vectors_file)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)", result.stdout, re.M)
    assert passed and int(passed.group(1)) >= len(VECTORS) + 1, result.stdout[-2000:]
    assert re.search(r"^# fail 0", result.stdout, re.M)


def test_node_test_fails_without_vectors(tmp_path):
    require_node()
    assert _run_node(None).returncode != 0
    assert _run_node(tmp_path / "missing.json").returncode != 0
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    assert _run_node(empty).returncode != 0


# --------------------------------------------------------------------------
# Parser, tree, names, types
# --------------------------------------------------------------------------


def test_tree_shape_and_json():
    e = compile_expression("held_on <= today()", {"held_on": "date"})
    assert e.to_json() == ["cmp", "<=", ["name", "held_on"], ["call", "today", []]]
    assert e.type == "boolean"
    assert e.names == frozenset({"held_on"})
    e = compile_expression("-x * 2 + len(t) - 1 / 2", {"x": "number", "t": "text"})
    assert e.to_json() == ["arith", "-",
                           ["arith", "+", ["arith", "*", ["neg", ["name", "x"]], ["lit", 2]],
                            ["call", "len", [["name", "t"]]]],
                           ["arith", "/", ["lit", 1], ["lit", 2]]]
    assert compile_expression("-1", {}).to_json() == ["lit", -1]
    assert compile_expression("x not in [1, 2]", {"x": "number"}).to_json() == \
        ["not_in", ["name", "x"], ["list", [["lit", 1], ["lit", 2]]]]
    assert compile_expression("not a or b and c", dict(a="boolean", b="boolean", c="boolean")).to_json() == \
        ["or", ["not", ["name", "a"]], ["and", ["name", "b"], ["name", "c"]]]


def test_names_and_row_names():
    e = compile_expression("row.hours <= max_hours and sum(roster.hours) > 0 and count(roster) > 1",
                           {"max_hours": "number"}, row_names={"hours": "number"},
                           columns={"roster": {"hours": "number"}})
    assert e.names == frozenset({"max_hours", "roster"})
    assert e.row_names == frozenset({"hours"})
    assert compile_expression("sum(roster.hours)", {}, columns={"roster": {"hours": "number"}}).type == "number"
    assert compile_expression("roster.hours", {}, columns={"roster": {"hours": "number"}}).type == "list[number]"


@pytest.mark.parametrize("source, names, expected", [
    ("1 + 2", {}, "number"),
    ("'a' + t", {"t": "text"}, "text"),
    ("x + 1", {"x": "any"}, "number"),
    ("x", {"x": "any"}, "any"),
    ("[1, null]", {}, "list[number]"),
    ("[]", {}, "list[any]"),
    ("birth_date(t)", {"t": "text"}, "date"),
    ("max(d, today())", {"d": "date"}, "date"),
    ("min(tags)", {"tags": "list[text]"}, "text"),
    ("coalesce(x, 0)", {"x": "number"}, "number"),
    ("if_else(b, null, 'x')", {"b": "boolean"}, "text"),
    ("matches(t, 'a+')", {"t": "text"}, "boolean"),
    ("d == dt", {"d": "date", "dt": "datetime"}, "boolean"),
    ("x in tags", {"x": "any", "tags": "list"}, "boolean"),
])
def test_types(source, names, expected):
    assert compile_expression(source, names).type == expected


def test_expect():
    assert compile_expression("x > 1", {"x": "number"}, expect="boolean").type == "boolean"
    e = compile_expression("x", {"x": "any"}, expect="boolean")
    assert e.evaluate({"x": None}) is False
    assert e.evaluate({"x": "yes"}) is True
    assert compile_expression("x * 2", {"x": "number"}, expect="number").type == "number"
    with pytest.raises(ExpressionError, match="expected a date expression, got a number"):
        compile_expression("x * 2", {"x": "number"}, expect="date")
    assert compile_expression("agreed", {"agreed": "boolean"}, expect="boolean").evaluate({}) is False


def test_unknown_type_is_refused():
    with pytest.raises(ExpressionError, match="unknown type 'integer'"):
        compile_expression("x", {"x": "integer"})


def test_bounds_are_inclusive():
    source = "1" + " " * 499
    assert len(source) == 500
    compile_expression(source, {})
    compile_expression("+".join(["x"] * 50), {"x": "number"})  # 99 nodes
    with pytest.raises(ExpressionError, match="101 nodes"):
        compile_expression("+".join(["x"] * 51), {"x": "number"})
    compile_expression("(" * 19 + "x" + ")" * 19, {"x": "number"})  # 20 levels
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_expression("(" * 20 + "x" + ")" * 20, {"x": "number"})
    with pytest.raises(ExpressionError, match="expression too long"):
        compile_expression("1" + " " * 500, {})


def test_error_has_column():
    with pytest.raises(ExpressionError) as info:
        compile_expression("x + $", {"x": "number"})
    assert str(info.value) == "unexpected '$' at column 5"
    assert info.value.column == 5


def test_escapes_keep_unknown_backslashes():
    assert compile_expression(r"'a\d\'\"\\'", {}).evaluate({}) == "a\\d'\"\\"


def test_expression_is_frozen_and_hashable():
    a = compile_expression("x + 1", {"x": "number"})
    b = compile_expression("x + 1", {"x": "number"})
    assert a == b and hash(a) == hash(b)
    assert isinstance(a, Expression)
    with pytest.raises(AttributeError):
        a.source = "x"


# --------------------------------------------------------------------------
# Evaluation details
# --------------------------------------------------------------------------


def test_decimal_values_are_numbers():
    e = compile_expression("x + y * 2", {"x": "number", "y": "number"})
    assert e.evaluate({"x": Decimal("1.5"), "y": Decimal("2")}) == pytest.approx(5.5)
    assert compile_expression("sum(roster.h)", {}, columns={"roster": {"h": "number"}}).evaluate(
        {"roster": [{"h": Decimal("1.25")}, {"h": 2}, {"h": None}]}) == pytest.approx(3.25)
    assert compile_expression("x == 0.1", {"x": "number"}).evaluate({"x": Decimal("0.1")}) is True
    assert compile_expression("2 in xs", {"xs": "list[number]"}).evaluate({"xs": (Decimal(2),)}) is True


def test_dates_given_as_text_are_parsed_for_date_names():
    e = compile_expression("date_diff(a, b)", {"a": "date", "b": "date"})
    assert e.evaluate({"a": "2017-10-01", "b": date(2017, 9, 1)}) == 30
    assert e.evaluate({"a": "not a date", "b": date(2017, 9, 1)}) is None


def test_list_of_dates_given_as_text_are_parsed():
    e = compile_expression("held_on in holidays", {"held_on": "date", "holidays": "list[date]"})
    assert e.evaluate({"held_on": date(2017, 10, 1), "holidays": ["2017-10-01", "2017-10-02"]}) is True


def test_null_equality():
    # == and != treat null as a value; ordering with null is always false.
    ne = compile_expression("x != 3", {"x": "number"})
    assert ne.evaluate({"x": None}) is True
    assert compile_expression("x == y", {"x": "number", "y": "number"}).evaluate({}) is True
    for op in ("<", "<=", ">", ">="):
        assert compile_expression(f"x {op} y", {"x": "number", "y": "number"}).evaluate({"x": 1}) is False
        assert compile_expression(f"x {op} y", {"x": "number", "y": "number"}).evaluate({}) is False


def test_today_defaults_to_the_real_today():
    assert compile_expression("today()", {}).evaluate({}) == date.today()
    assert compile_expression("today()", {}).evaluate({}, today=datetime(2017, 9, 29, 8)) == date(2017, 9, 29)


def test_boolean_is_not_a_number():
    assert compile_expression("x == 1", {"x": "any"}).evaluate({"x": True}) is False
    assert compile_expression("x + 1", {"x": "any"}).evaluate({"x": True}) is None
    assert compile_expression("sum(xs)", {"xs": "list[any]"}).evaluate({"xs": [True, 2]}) == 2


def test_wrong_kinds_at_runtime_give_null_not_exceptions():
    e = compile_expression("x + y", {"x": "any", "y": "any"})
    assert e.evaluate({"x": "a", "y": 1}) is None
    assert e.evaluate({"x": "a", "y": "b"}) == "ab"
    assert compile_expression("x < y", {"x": "any", "y": "any"}).evaluate({"x": "a", "y": 1}) is False
    aware = datetime(2017, 9, 29, tzinfo=timezone.utc)
    assert compile_expression("x < y", {"x": "any", "y": "any"}).evaluate(
        {"x": aware, "y": datetime(2017, 9, 30)}) is False


def test_date_and_datetime_compare():
    e = compile_expression("at >= d", {"at": "datetime", "d": "date"})
    assert e.evaluate({"at": datetime(2017, 9, 29, 8), "d": date(2017, 9, 29)}) is True
    assert e.evaluate({"at": datetime(2017, 9, 28, 23), "d": date(2017, 9, 29)}) is False
    assert compile_expression("at == d", {"at": "datetime", "d": "date"}).evaluate(
        {"at": datetime(2017, 9, 29), "d": date(2017, 9, 29)}) is True


def test_is_truthy():
    for value in (None, False, 0, 0.0, float("nan"), "", [], ()):
        assert is_truthy(value) is False, value
    for value in (True, 1, -0.5, "a", [None], date(2017, 1, 1), Decimal("0.1")):
        assert is_truthy(value) is True, value


def test_evaluator_never_touches_builtins():
    # Names that look like Python internals cannot even be written ...
    for source in ("__class__", "x.__class__", "__builtins__", "row.__dict__", "getattr(x, 'y')", "eval('1')",
                   "exec('1')", "type(x)", "globals()", "x.__class__.__mro__"):
        with pytest.raises(ExpressionError):
            compile_expression(source, {"x": "number"}, row_names={"a": "number"})
    # ... and values with such keys are plain data: nothing special happens.
    hostile = {"__class__": "boom", "__builtins__": {"eval": eval}, "__import__": None, "x": 41,
               "t": "__import__('os').system('false')"}
    assert compile_expression("x + 1", {"x": "number"}).evaluate(hostile) == 42
    assert compile_expression("len(t)", {"t": "text"}).evaluate(hostile) == len(hostile["t"])
    assert compile_expression("t == '__class__'", {"t": "text"}).evaluate(hostile) is False
    # The module itself never evaluates code or parses with Python's own parser.
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(PY_PACKAGE.glob("*.py")))
    assert not re.search(r"(?<![\w.])(eval|exec|compile)\(", source)
    assert not re.search(r"^\s*(import ast|from ast )", source, re.M)
    assert "__import__(" not in source.replace("'__import__'", "")
    js = JS_EVALUATOR.read_text(encoding="utf-8")
    assert not re.search(r"\beval\(|new Function|\bFunction\(|setTimeout\(|setInterval\(", js)


GARBAGE = [None, 0, -1.5, 3, 10 ** 30, 10 ** 400, float("nan"), float("inf"), "", "文明", "2017-10-01",
           "34120119900307123X", True, False, [], [1, "a", None, [2]], {"a": 1}, date(2017, 9, 29),
           datetime(2017, 9, 29, 8), datetime(2017, 9, 29, tzinfo=timezone.utc), Decimal("1.5"),
           Decimal("NaN"), (1, 2), {1, 2}]


def test_evaluation_never_raises_on_odd_values():
    rng = random.Random(2017)
    expressions = [(compile_vector(v), v) for v in VECTORS]
    for _ in range(30):
        for expression, vector in expressions:
            values = {name: rng.choice(GARBAGE) for name in vector.get("names", {})}
            for repeat in vector.get("columns", {}):
                values[repeat] = rng.choice([None, "x", [None, 1, {"hours": rng.choice(GARBAGE)}],
                                             [{c: rng.choice(GARBAGE) for c in cols}
                                              for cols in [vector["columns"][repeat]] * 3]])
            row = {c: rng.choice(GARBAGE) for c in vector.get("row_names", {})}
            expression.evaluate(values, row=row, today=date(2017, 9, 29))


def test_round_is_half_away_from_zero():
    r = compile_expression("round(x, n)", {"x": "number", "n": "number"})
    assert r.evaluate({"x": 0.125, "n": 2}) == pytest.approx(0.13)
    assert r.evaluate({"x": -0.125, "n": 2}) == pytest.approx(-0.13)
    assert r.evaluate({"x": 2.5, "n": None}) is None
    assert compile_expression("round(x)", {"x": "number"}).evaluate({"x": 0.5}) == 1


# --------------------------------------------------------------------------
# Speed
# --------------------------------------------------------------------------

NAMES = {"held_on": "date", "hours": "number", "title": "text", "tags": "list[text]", "agreed": "boolean",
         "id_card": "text", "phone": "text", "target": "number", "status": "text"}
TYPICAL = [
    "held_on <= today()",
    "hours >= 0 and hours <= 24",
    "len(title) <= 50 and title != null",
    "'文明' in tags or agreed",
    "years_since(birth_date(id_card)) >= 18",
    "matches(phone, '1[3-9]\\d{9}')",
    "sum(roster.hours) >= target",
    "status in ['draft', 'returned'] and not agreed",
    "round(coalesce(hours, 0) / 8, 1)",
    "if_else(date_diff(today(), held_on) > 30, 'late', 'on time')",
]


def test_row_constraint_over_many_rows():
    e = compile_expression("row.hours != null and row.hours >= 0 and row.hours <= 24 and row.name != ''", {},
                           row_names={"hours": "number", "name": "text"}, expect="boolean")
    rows = [{"hours": i % 30, "name": f"志愿者{i}"} for i in range(2000)]
    values = {"roster": rows}
    assert sum(e.evaluate(values, row=row) for row in rows) == sum(1 for row in rows if row["hours"] <= 24)
