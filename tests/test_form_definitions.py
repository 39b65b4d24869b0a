"""Loading definitions: structure, names, choices, limits and expressions, errors at their key."""
import json
from pathlib import Path

import pytest

from forms.definition import DefinitionError, load_definition

BUILTIN = Path(__file__).resolve().parent.parent / "workflows" / "definitions" / "forms"

HEAD = "key: t\nversion: 1\ntitle: 测试\n"


def problems(body, head=HEAD):
    with pytest.raises(DefinitionError) as caught:
        load_definition(head + body)
    return [str(p) for p in caught.value.problems], caught.value.problems


@pytest.mark.parametrize("path", sorted(BUILTIN.glob("*.yaml")), ids=lambda p: p.stem)
def test_builtin_definitions_load(path):
    spec = load_definition(path.read_text(encoding="utf-8"))
    # One file per version: key.yaml is version 1, key_vN.yaml version N.
    key, _, version = path.stem.partition("_v")
    assert (spec.key, spec.version) == (key, int(version or 1))
    assert spec.schema.title.en  # every built-in has English labels too


def test_duplicate_field_names():
    texts, _ = problems("fields:\n  - {name: a, type: text}\n  - {name: a, type: integer}\n")
    assert texts == ["fields[1].name: duplicate field name 'a' (also fields[0])"]


def test_unknown_choice_list():
    texts, _ = problems("fields:\n  - {name: a, type: choice, choices: nowhere}\n")
    assert texts == ["fields[0].choices: unknown choice list 'nowhere'"]


def test_min_rows_above_max_rows():
    texts, _ = problems("fields:\n  - {name: r, type: repeat, min_rows: 5, max_rows: 2, fields: [{name: x, type: text}]}\n")
    assert texts == ["fields[0].min_rows: min_rows (5) is greater than max_rows (2)"]


def test_calculation_cycle():
    texts, _ = problems("fields:\n  - {name: a, type: calculate, calculate: 'b + 1'}\n"
                        "  - {name: b, type: calculate, calculate: 'a + 1'}\n")
    assert texts == ["fields[0].calculate: calculation cycle: a → b → a"]


def test_unknown_name_in_a_constraint_with_its_line():
    body = ("fields:\n  - {name: hours, type: decimal}\n  - name: total\n    type: decimal\n    constraints:\n"
            "      - {if: 'hourz > 0', message: 正数}\n")
    texts, found = problems(body)
    assert texts == ["fields[1].constraints[0].if: unknown name 'hourz'"]
    assert found[0].line == 9  # three lines of head, then the constraint's line


@pytest.mark.parametrize("expression", ["__import__('os')", "().__class__", "lambda x: x", "1+" * 300 + "1"])
def test_dangerous_or_oversized_expressions_are_refused(expression):
    texts, _ = problems(f"fields:\n  - {{name: a, type: text, visible_if: {json.dumps(expression)}}}\n")
    assert len(texts) == 1 and texts[0].startswith("fields[0].visible_if: ")


def test_unknown_field_type_and_unknown_key():
    texts, _ = problems("fields:\n  - {name: a, type: txet}\n  - {name: b, type: text, colour: red}\n")
    assert "fields[0].type: unknown field type 'txet'" in texts
    assert "fields[1].colour: unknown key 'colour'" in texts


def test_type_mismatch_is_a_load_time_error():
    texts, _ = problems("fields:\n  - {name: held_on, type: date}\n  - {name: x, type: calculate, calculate: 'held_on * 2'}\n")
    assert len(texts) == 1 and texts[0].startswith("fields[1].calculate: ")


def test_row_references_and_column_sums_compile():
    spec = load_definition(HEAD + "fields:\n  - name: roster\n    type: repeat\n    fields:\n"
                           "      - {name: hours, type: decimal}\n"
                           "      - {name: note, type: text, visible_if: 'row.hours > 8'}\n"
                           "  - {name: total, type: calculate, calculate: 'sum(roster.hours)'}\n")
    assert spec.field("total").value_type == "number"


def test_not_yaml_and_not_a_mapping():
    texts, found = problems("fields: [\n", head=HEAD)
    assert texts[0].startswith("not valid YAML") and found[0].line
    texts, _ = problems("", head="- just a list\n")
    assert texts and "mapping" in texts[0]


def test_alias_bomb_is_refused():
    bomb = "a: &a ['x','x','x','x','x','x','x','x','x','x']\n"
    for i in range(ord("b"), ord("k")):
        prev = chr(i - 1)
        bomb += f"{chr(i)}: &{chr(i)} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
    texts, _ = problems(bomb, head="")
    assert texts == ["definition too large (too many nodes or aliases)"]


def test_default_of_the_wrong_type():
    texts, _ = problems("fields:\n  - {name: n, type: integer, default: many}\n")
    assert texts == ["fields[0].default: default 'many' is not a valid integer"]


def test_a_problem_is_english_outside_a_request_and_the_readers_language_inside_one(app):
    from flask import session

    _, found = problems("fields:\n  - {name: a, type: text, visible_if: 'frobnicate(a)'}\n")
    _, again = problems("fields:\n  - {name: a, type: text, visible_if: 'frobnicate(a)'}\n")
    # Problems compare and hash by msgid and values, whoever reads them.
    assert found == again and hash(found[0]) == hash(again[0])
    assert str(found[0]) == "fields[0].visible_if: unknown function 'frobnicate'"
    with app.app_context():
        assert str(found[0]) == "fields[0].visible_if: unknown function 'frobnicate'"  # the CLI's case
    with app.test_request_context():
        assert str(found[0]) == "fields[0].visible_if: 未知的函数 'frobnicate'"
    with app.test_request_context():
        session["lang"] = "en"
        assert str(found[0]) == "fields[0].visible_if: unknown function 'frobnicate'"
    counted = problems("fields:\n  - {name: a, type: text, visible_if: 'len(a, a) > 0'}\n")[0]
    assert counted == ["fields[0].visible_if: len() takes 1 argument (2 given)"]
    counted = problems("fields:\n  - {name: a, type: text, visible_if: 'round() > 0'}\n")[0]
    assert counted == ["fields[0].visible_if: round() takes 1 to 2 arguments (0 given)"]
