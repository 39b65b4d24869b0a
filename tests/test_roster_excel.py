"""Rosters through Excel (template out, rows in) and unique repeat columns (the same ID number twice)."""
import io
import re
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from forms.answers import validate
from forms.definition import DefinitionError, load_definition
from forms.idcard import check_character
from workflows.demo.city import install_builtin_forms
from workflows.extensions import db
from workflows.filling import personal_data
from workflows.filling.roster_excel import _cell_text
from workflows.models import FormVersion, Submission

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ["姓名", "身份证号码", "联系电话", "服务时长（小时）"]

SMALL = """key: small
version: 1
title: 小表单
fields:
  - {name: title, type: text}
  - name: rows
    type: repeat
    max_rows: 3
    fields:
      - {name: who, type: text, required: true, label: 姓名}
      - {name: id_number, type: id_card, unique: true, label: 身份证号码}
"""


def id_number(serial=123, day=7):
    base = f"341201199003{day:02d}{serial:03d}"
    return base + check_character(base)


def id_with_x():
    return next(n for n in (id_number(s) for s in range(1000)) if n.endswith("X"))


@pytest.fixture
def filler(app, city, create_user, client, login):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    create_user("filler.a1", city["a1"], "filler")
    login("filler.a1")
    return client


def publish(app, source):
    with app.app_context():
        spec = load_definition(source)
        db.session.add(FormVersion(key=spec.key, version=spec.version, sha256=spec.sha256, source=source,
                                   title=spec.schema.title.zh, status="published"))
        db.session.commit()


def workbook(rows, headers=HEADERS, before=()):
    book = Workbook()
    sheet = book.active
    for line in before:
        sheet.append(line)
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def page_fields(**overrides):
    data = {"theme": "leifeng", "title": "学雷锋进社区服务", "held_on": date.today().isoformat(),
            "place": "颍州区清河街道", "person_in_charge": "王五"}
    data.update(overrides)
    return data


def import_post(client, xlsx, name="名单.xlsx", url="/forms/activity_report/new", field="roster", **fields):
    data = page_fields(**fields)
    data["action"] = f"import_rows:{field}"
    data[f"{field}-xlsx"] = (io.BytesIO(xlsx), name)
    return client.post(url, data=data, content_type="multipart/form-data")


def stored_roster(app):
    with app.app_context():
        submission = db.session.execute(select(Submission)).scalar_one()
        answers = personal_data.reveal(submission.definition.spec, submission.answers)
        return submission, answers


def row_errors(response, field="roster"):
    """{(row index, column label): [messages]} read from the re-rendered page."""
    page = response.get_data(as_text=True)
    table = page.split(f'data-repeat="{field}"', 1)[1].split("</tbody>", 1)[0]
    found = {}
    for index, chunk in enumerate(table.split("<tr data-row>")[1:]):
        for label, cell in re.findall(r'<td class="has-error" data-label="([^"]+)">(.*?)</td>', chunk, re.S):
            found[(index, label)] = re.findall(r'class="error" role="alert">([^<]+)<', cell)
    return found


def field_errors(response, field="roster"):
    page = response.get_data(as_text=True)
    wrap = page.split(f'data-wrap="{field}"', 1)[1].split("</tbody>", 1)[1].split("data-wrap=", 1)[0]
    return re.findall(r'class="error" role="alert">([^<]+)<', wrap)


# --- the template -------------------------------------------------------------------------

def test_template_downloads_and_reads_back(app, filler):
    page = filler.get("/forms/activity_report/new").get_data(as_text=True)
    assert 'href="/forms/activity_report/v2/roster.xlsx"' in page and 'value="import_rows:roster"' in page
    response = filler.get("/forms/activity_report/v2/roster.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.freeze_panes == "A2"
    assert sheet["B2"].number_format == "@" and sheet["B2000"].number_format == "@"
    assert sheet["C2"].number_format == "@"  # phones keep their leading digits too
    assert sheet.column_dimensions["B"].width >= 20
    assert "key: id_number" in sheet["B1"].comment.text
    keys = book["_fields"]
    assert keys.sheet_state == "hidden"
    assert [r[0].value for r in keys.iter_rows(min_row=2)] == ["name", "id_number", "phone", "hours"]
    filler.post("/language/en", data={"next": "/"})
    english = load_workbook(io.BytesIO(filler.get("/forms/activity_report/v2/roster.xlsx").data)).worksheets[0]
    assert [c.value for c in english[1]] == ["Name", "ID number", "Phone", "Hours"]
    assert filler.get("/forms/activity_report/v2/title.xlsx").status_code == 404
    assert filler.get("/forms/activity_report/v9/roster.xlsx").status_code == 404


def test_the_template_filled_in_and_uploaded_lands_in_the_roster(app, filler):
    book = load_workbook(io.BytesIO(filler.get("/forms/activity_report/v2/roster.xlsx").data))
    sheet = book.worksheets[0]
    for column, value in zip("ABCD", ["张三", id_number(1), "13800000001", 2.5]):
        sheet[f"{column}2"] = value
    for column, value in zip("ABD", ["李四", id_with_x().lower(), 1]):  # a lower-case x, a whole number
        sheet[f"{column}3"] = value
    out = io.BytesIO()
    book.save(out)
    response = import_post(filler, out.getvalue())
    assert response.status_code == 302, row_errors(response)
    submission, answers = stored_roster(app)
    assert submission.state == "draft" and answers["title"] == "学雷锋进社区服务"
    assert answers["roster"] == [
        {"name": "张三", "id_number": id_number(1), "phone": "13800000001", "hours": 2.5},
        {"name": "李四", "id_number": id_with_x(), "hours": 1.0}]
    assert answers["total_hours"] == 3.5
    # The edit page shows them; importing again replaces the roster rather than adding to it.
    again = import_post(filler, workbook([["王五", id_number(2), None, 3]]),
                        url=f"/submissions/{submission.id}/edit", row_version=str(submission.row_version))
    assert again.status_code == 302, row_errors(again)
    assert [r["name"] for r in stored_roster(app)[1]["roster"]] == ["王五"]


def test_bad_rows_show_errors_at_row_and_column_and_keep_the_form(app, filler):
    bad = id_number(5)[:-1] + ("0" if id_number(5)[-1] != "0" else "1")
    content = workbook([["张三", id_number(1), None, 2],
                        [None, None, None, None],  # an empty row is skipped
                        ["李四", bad, None, 2],
                        ["王五", id_number(2), None, 25],
                        ["赵六", id_number(1), None, 1],
                        ["钱七", 3.41201199003071e17, None, 1]],
                       before=[["某某社区志愿者名单"]])  # a title line above the header
    response = import_post(filler, content, content="这段内容不会丢。")
    assert response.status_code == 422
    errors = row_errors(response)
    assert errors[(1, "身份证号码")] == ["身份证号码校验位不正确，请核对。"]
    assert errors[(2, "服务时长（小时）")] == ["不能大于 24。"]
    assert errors[(3, "身份证号码")] == ["与第 1 行重复，同一名单中不能重复填写。"]
    assert "后几位已经丢失" in errors[(4, "身份证号码")][0] and "文本" in errors[(4, "身份证号码")][0]
    assert set(errors) == {(1, "身份证号码"), (2, "服务时长（小时）"), (3, "身份证号码"), (4, "身份证号码")}
    page = response.get_data(as_text=True)
    for kept in ('value="学雷锋进社区服务"', 'value="颍州区清河街道"', "这段内容不会丢。", 'value="赵六"', id_number(2)):
        assert kept in page
    assert "读取了 5 行" in page
    with app.app_context():
        assert db.session.query(Submission).count() == 0


def test_two_thousand_rows(app, filler):
    rows = [[f"志愿者{i}", id_number(i % 1000, day=7 + i // 1000), "13800000000", 2.5] for i in range(2000)]
    response = import_post(filler, workbook(rows))
    assert response.status_code == 302, list(row_errors(response).items())[:3]
    _submission, answers = stored_roster(app)
    assert len(answers["roster"]) == 2000 and answers["total_hours"] == 5000
    assert answers["roster"][1999]["id_number"] == id_number(999, day=8)
    submission_id = _submission.id
    edit = filler.get(f"/submissions/{submission_id}/edit").get_data(as_text=True)
    assert edit.count("<tr data-row>") == 2001 and 'value="志愿者1999"' in edit  # 2,000 rows and the template row
    rows[1500][3] = 25
    bad = import_post(filler, workbook(rows))
    assert bad.status_code == 422 and row_errors(bad) == {(1500, "服务时长（小时）"): ["不能大于 24。"]}
    one_more = import_post(filler, workbook(rows + [["多一人", id_number(1, day=9), None, 1]]))
    assert one_more.status_code == 422
    assert field_errors(one_more) == ["最多 2000 行（已有 2000+ 行）。"]


def test_not_an_xlsx_and_a_formula_cell(app, filler):
    typed = page_fields()
    data = dict(typed, **{"roster-0-name": "页面上的人", "roster-0-hours": "2"})
    data.update({"action": "import_rows:roster", "roster-xlsx": (io.BytesIO(b"name,id\n a,b\n"), "名单.csv")})
    response = filler.post("/forms/activity_report/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    [refusal] = field_errors(response)
    assert "名单.csv 不是 Excel 工作簿（.xlsx）" in refusal
    page = response.get_data(as_text=True)
    assert 'value="页面上的人"' in page and 'value="学雷锋进社区服务"' in page  # nothing typed is lost
    old = import_post(filler, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, name="旧.xls")
    assert "97-2003" in field_errors(old)[0]
    broken = import_post(filler, b"PK\x03\x04 not really a zip")
    assert "已损坏" in field_errors(broken)[0]
    formula = '=HYPERLINK("http://evil.example/","点我")'
    response = import_post(filler, workbook([[formula, id_number(1), None, 2]]))
    assert response.status_code == 302, row_errors(response)
    assert stored_roster(app)[1]["roster"][0]["name"] == formula  # its text, never evaluated


def test_header_problems_are_refused_at_the_roster(app, filler):
    unknown = import_post(filler, workbook([["张三", "x", 2]], headers=["姓名", "住址", "服务时长（小时）"]))
    assert unknown.status_code == 422
    [message] = field_errors(unknown)
    assert "“住址”" in message and "“身份证号码”" in message
    # Labels match loosely (half-width brackets, a required star); keys and English labels work too.
    loose = workbook([["张三", id_number(1), 2]], headers=["序号", "ID number", "服务时长(小时)"])
    with_keys = import_post(filler, workbook([[1, "张三", id_number(1), 2]],
                                             headers=["序号", "name*", "id_number", "服务时长(小时)"]))
    assert with_keys.status_code == 302, field_errors(with_keys)
    missing = import_post(filler, loose)
    assert "“姓名”" in field_errors(missing)[0]
    none = import_post(filler, workbook([], headers=[]), name="empty.xlsx")
    assert "No header row" in field_errors(none)[0] or "标题行" in field_errors(none)[0]


def test_max_rows_of_a_small_roster(app, filler):
    publish(app, SMALL)
    content = workbook([["甲", None], ["乙", None], ["丙", None], ["丁", None]], headers=["姓名", "身份证号码"])
    response = import_post(filler, content, url="/forms/small/new", field="rows")
    assert response.status_code == 422
    assert field_errors(response, "rows") == ["最多 3 行（已有 3+ 行）。"]


# --- unique columns -----------------------------------------------------------------------

def test_the_same_id_twice_is_an_error_at_the_second_row_through_the_page(app, filler):
    data = page_fields(action="save")
    data.update({"roster-0-name": "张三", "roster-0-id_number": id_with_x(), "roster-0-hours": "1",
                 "roster-1-name": "李四", "roster-1-id_number": id_number(2), "roster-1-hours": "1",
                 "roster-2-name": "王五", "roster-2-id_number": id_with_x().lower(), "roster-2-hours": "1"})
    response = filler.post("/forms/activity_report/new", data=data)
    assert response.status_code == 422  # a draft too: the list is wrong whatever else is missing
    assert row_errors(response) == {(2, "身份证号码"): ["与第 1 行重复，同一名单中不能重复填写。"]}
    assert 'value="王五"' in response.get_data(as_text=True)


def test_the_same_id_twice_through_the_api(app, filler, city, create_user):
    from tests.test_api import bearer, token_for
    user_id = create_user("script.a1", city["a1"], "filler")
    roster = [{"name": "张三", "id_number": id_number(1)}, {"name": "李四", "id_number": id_number(1)}]
    response = filler.post("/api/v1/submissions", headers=bearer(token_for(app, user_id)),
                           json={"form": "activity_report", "unit": city["a1"], "answers": {"roster": roster}})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"roster[1].id_number": ["与第 1 行重复，同一名单中不能重复填写。"]}


def test_unique_in_the_form_layer_and_its_definition_checks():
    spec = load_definition(SMALL)
    rows = [{"who": "a", "id_number": id_number(1)}, {"who": "b"}, {"who": "c", "id_number": id_number(1)},
            {"who": "d", "id_number": id_number(1)}, {"who": "e", "id_number": "bad"}]
    outcome = validate(spec, {"rows": rows}, language="en", strict=False)
    assert outcome.errors == {"rows[2].id_number": ["The same as row 1; each may appear only once in this list."],
                              "rows[3].id_number": ["The same as row 1; each may appear only once in this list."],
                              "rows[4].id_number": [
                                  "An ID number has 18 characters: 17 digits and a final digit or X."]}
    with pytest.raises(DefinitionError, match=r"fields\[0\]\.unique: unique applies only to a column of a repeat"):
        load_definition(SMALL.replace("{name: title, type: text}", "{name: title, type: text, unique: true}"))
    with pytest.raises(DefinitionError, match="a boolean column cannot be unique"):
        load_definition(SMALL.replace("type: id_card, unique: true", "type: boolean, unique: true"))


@pytest.mark.parametrize("kind, value, expected", [
    ("id_card", 341201199003071234, "341201199003071234"),  # an integer the file holds exactly
    ("phone", 13800000001.0, "13800000001"),
    ("decimal", 2.5, "2.5"),
    ("date", "2017年3月5日", "2017-03-05"),
    ("boolean", "是", "1"),
])
def test_cells_are_read_as_typed(kind, value, expected):
    source = SMALL.replace("type: id_card, unique: true", f"type: {kind}")
    column = load_definition(source).field("rows").column("id_number")
    assert _cell_text(column, value, "zh") == expected
