"""Form engine figures: validating big rosters, building form classes, compiling definitions."""
import statistics
import time
from datetime import date
from pathlib import Path

from forms.answers import validate
from forms.builder import form_class
from forms.definition import load_definition
from forms.expressions import compile_expression
from forms.idcard import check_character
from tests.bench.conftest import scale

ACTIVITY = (Path(__file__).resolve().parents[2] / "workflows" / "definitions" / "forms"
            / "activity_report.yaml").read_text(encoding="utf-8")


def _id(serial):
    base = f"341201199003{7 + serial // 1000:02d}{serial % 1000:03d}"
    return base + check_character(base)


def activity(rows):
    return {"theme": "leifeng", "title": "学雷锋志愿服务", "held_on": "2017-03-05", "place": "颍州区",
            "beneficiaries": "孤寡老人", "content": "为辖区老人打扫卫生、理发、测量血压。" * 5, "has_media": "0",
            "roster": [{"name": f"志愿者{i}", "id_number": _id(i), "phone": "13800138000", "hours": "2.5"}
                       for i in range(rows)],
            "photos": [{"id": "x", "name": "a.jpg"}], "person_in_charge": "王主任", "contact_phone": "13800138000",
            "recorder": "李四"}


def hundred_fields():
    lines = ["key: big", "version: 1", "title: 百项表单", "fields:"]
    for i in range(100):
        kind = ("text", "integer", "decimal", "date", "boolean")[i % 5]
        extra = f", visible_if: 'f{i - 1} != null'" if i % 4 == 1 else ""
        constraint = f", constraints: [{{if: 'f{i} >= 0', message: 非负}}]" if kind in ("integer", "decimal") else ""
        lines.append(f"  - {{name: f{i}, type: {kind}, label: 第{i}项{extra}{constraint}}}")
    return "\n".join(lines) + "\n"


def median(samples):
    return statistics.median(samples)


def test_form_engine(report):
    spec = load_definition(ACTIVITY)
    rows = []
    for n in (200, 2000):
        raw = activity(n)
        samples = []
        for _ in range(scale(3, 15)):
            started = time.perf_counter()
            outcome = validate(spec, raw, today=date(2017, 3, 6))
            samples.append(time.perf_counter() - started)
        assert outcome.ok, list(outcome.errors.items())[:3]
        rows.append((f"validate activity report, roster {n}", f"{median(samples) * 1000:.1f} ms"))
    form_class(spec, "zh")
    samples = []
    for _ in range(scale(200, 5000)):
        started = time.perf_counter()
        form_class(spec, "zh")
        samples.append(time.perf_counter() - started)
    rows.append(("form class for a cached definition", f"{median(samples) * 1e6:.2f} µs"))
    source = hundred_fields()
    compile_uncached = load_definition.__wrapped__
    samples = []
    for _ in range(scale(3, 20)):
        started = time.perf_counter()
        big = compile_uncached(source)
        samples.append(time.perf_counter() - started)
    assert len(big.fields) == 100
    rows.append(("parse and compile a 100-field definition", f"{median(samples) * 1000:.1f} ms"))
    rows.extend(expression_rows())
    report("form engine (median)", ["what", "time"], rows)


def expression_rows():
    from tests.test_expressions import NAMES, TYPICAL
    sources = [TYPICAL[i % len(TYPICAL)] + " " * (i // len(TYPICAL)) for i in range(300)]
    samples = []
    for _ in range(scale(3, 20)):
        started = time.perf_counter()
        for source in sources:
            compile_expression(source, NAMES, columns={"roster": {"hours": "number"}})
        samples.append(time.perf_counter() - started)
    constraint = compile_expression("row.hours != null and row.hours >= 0 and row.hours <= 24 and row.name != ''",
                                    {}, row_names={"hours": "number", "name": "text"}, expect="boolean")
    table = [{"hours": i % 30, "name": f"志愿者{i}"} for i in range(2000)]
    values = {"roster": table}
    evaluations = []
    for _ in range(scale(3, 20)):
        started = time.perf_counter()
        for row in table:
            constraint.evaluate(values, row=row)
        evaluations.append(time.perf_counter() - started)
    return [("compile 300 typical expressions", f"{median(samples) * 1000:.1f} ms"),
            ("evaluate a 4-part row constraint on 2,000 rows", f"{median(evaluations) * 1000:.1f} ms")]
