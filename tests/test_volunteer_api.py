"""Volunteers over the JSON API (issue 9, item 8): list, search, detail, certify with row decisions."""
from decimal import Decimal

import pytest

from workflows.api import issue_token
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import Submission, User

from .test_volunteers import (A, B, C, approved_report, current_records, people, snapshot, user,  # noqa: F401
                              volunteer)


def token(app, user_id):
    with app.app_context():
        _token, plain = issue_token(db.session.get(User, user_id), "script")
        db.session.commit()
        return {"Authorization": f"Bearer {plain}"}


def no_full_number(response, *numbers):
    text = response.get_data(as_text=True)
    for number in numbers:
        assert number not in text and number[:6] not in text


@pytest.fixture
def certified(app, people):
    report = approved_report(app, people, [("张三", A, 3), ("李四", B, 4)])
    with app.test_request_context():
        perform(report, "certify", user("certifier.a"))
    with app.app_context():
        return {"report": report, "a": volunteer(A).number, "b": volunteer(B).number}


def test_the_list_searches_by_name_and_last_digits_with_masked_numbers(app, people, certified, client):
    headers = token(app, people["reviewer"])
    response = client.get("/api/v1/volunteers", headers=headers)
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert sorted(i["number"] for i in items) == sorted([certified["a"], certified["b"]])
    first = next(i for i in items if i["number"] == certified["a"])
    assert first["name"] == "张三" and first["id_number"] == "*" * 14 + A[-4:]
    assert first["hours_total"] == 3.0 and first["person_times"] == 1 and first["stars"] == 0
    no_full_number(response, A, B)
    names = [i["name"] for i in client.get("/api/v1/volunteers?q=张", headers=headers).get_json()["items"]]
    assert names == ["张三"]
    response = client.get(f"/api/v1/volunteers?q={B[-3:]}", headers=headers)
    assert [i["number"] for i in response.get_json()["items"]] == [certified["b"]]
    page = client.get("/api/v1/volunteers?limit=1", headers=headers).get_json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get(f"/api/v1/volunteers?limit=1&cursor={page['next_cursor']}", headers=headers).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {page["items"][0]["number"], rest["items"][0]["number"]} == {certified["a"], certified["b"]}
    assert client.get("/api/v1/volunteers?cursor=abc", headers=headers).status_code == 400
    assert client.get("/api/v1/volunteers?q=" + "x" * 51, headers=headers).status_code == 400


def test_the_detail_has_the_records_and_another_district_sees_nothing(app, people, certified, client,
                                                                       create_user):
    headers = token(app, people["reviewer"])
    response = client.get(f"/api/v1/volunteers/{certified['a']}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["number"] == certified["a"] and body["id_number"].endswith(A[-4:])
    [record] = body["records"]
    assert record["held_on"] == "2017-03-05" and record["activity"] == "学雷锋志愿服务活动"
    assert record["hours"] == 3.0 and record["status"] == "active" and record["submission"] == certified["report"]
    no_full_number(response, A)
    other = token(app, create_user("reviewer.b", people["city"]["b"], "reviewer"))
    assert client.get("/api/v1/volunteers", headers=other).get_json()["items"] == []
    assert client.get("/api/v1/volunteers?q=张", headers=other).get_json()["items"] == []
    response = client.get(f"/api/v1/volunteers/{certified['a']}", headers=other)
    assert response.status_code == 404 and response.get_json()["error"] == "NotFound"
    assert client.get("/api/v1/volunteers/NOPE", headers=headers).status_code == 404


def _version(app, report):
    with app.app_context():
        return db.session.get(Submission, report).row_version


def test_certify_without_rows_confirms_every_row(app, people, client):
    report = approved_report(app, people, [("张三", A, 3), ("李四", B, 4)])
    response = client.post(f"/api/v1/submissions/{report}/actions/certify", headers=token(app, people["certifier"]),
                           json={"expected_version": _version(app, report)})
    assert response.status_code == 200, response.get_json()
    no_full_number(response, A, B)
    with app.app_context():
        assert [(r.roster_row, r.hours, r.change) for r in current_records(report)] == [
            (0, Decimal("3.0"), "certify"), (1, Decimal("4.0"), "certify")]


def test_certify_with_rows_corrects_and_excludes(app, people, client):
    report = approved_report(app, people, [("张三", A, 3), ("李四", B, 4), ("王五", C, 2)])
    response = client.post(f"/api/v1/submissions/{report}/actions/certify", headers=token(app, people["certifier"]),
                           json={"rows": [{"row": 1, "decision": "correct", "hours": 2.5, "reason": "含路途时间"},
                                          {"row": 2, "decision": "exclude", "reason": "未实际到场"}]})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert [(r.roster_row, r.hours, r.change) for r in current_records(report)] == [
            (0, Decimal("3.0"), "certify"), (1, Decimal("2.5"), "correct")]
        assert volunteer(C) is None
        assert db.session.get(Submission, report).state == "certified"


@pytest.mark.parametrize("rows, status, field", [
    ("all", 400, "rows"),
    ([{"row": 0}], 400, "rows[0].decision"),
    ([{"row": 0, "decision": "drop", "reason": "x"}], 400, "rows[0].decision"),
    ([{"row": "0", "decision": "exclude", "reason": "x"}], 400, "rows[0].row"),
    ([{"row": 0, "decision": "exclude", "reason": "x", "extra": 1}], 400, "rows[0].extra"),
    ([{"row": 0, "decision": "correct", "hours": 30, "reason": "x"}], 400, "rows[0].hours"),
    ([{"row": 0, "decision": "exclude", "reason": "x" * 501}], 400, "rows[0].reason"),
    ([{"row": 0, "decision": "exclude", "reason": "a\x00b"}], 400, "rows[0].reason"),
    ([{"row": 0, "decision": "exclude"}], 422, "rows[0].reason"),
    ([{"row": 0, "decision": "exclude", "reason": "   "}], 422, "rows[0].reason"),
    ([{"row": 0, "decision": "correct", "reason": "x"}], 422, "rows[0].hours"),
    ([{"row": 0, "decision": "correct", "hours": 2.55, "reason": "x"}], 422, "roster[0].hours"),
    ([{"row": 0, "decision": "confirm"}, {"row": 0, "decision": "exclude", "reason": "x"}], 422, "rows[1].row"),
    ([{"row": 5, "decision": "exclude", "reason": "x"}], 422, "rows"),
])
def test_bad_rows_are_refused_with_a_message_and_nothing_written(app, people, client, rows, status, field):
    report = approved_report(app, people, [("张三", A, 3)])
    before = snapshot(app, report)
    response = client.post(f"/api/v1/submissions/{report}/actions/certify", headers=token(app, people["certifier"]),
                           json={"rows": rows})
    body = response.get_json()
    assert response.status_code == status, body
    assert body["message"] and field in str(body.get("field", "")), body
    assert snapshot(app, report) == before


def test_rows_are_only_for_certify(app, people, client):
    report = approved_report(app, people, [("张三", A, 3)])
    response = client.post(f"/api/v1/submissions/{report}/actions/return", headers=token(app, people["certifier"]),
                           json={"rows": []})
    assert response.status_code == 422 and response.get_json()["field"] == "rows"


def test_the_records_export_masks_id_numbers_and_keeps_every_cell_text(app, people, certified, client, login,
                                                                        create_user):
    import io

    from openpyxl import load_workbook

    from workflows.models import Unit
    with app.app_context():
        db.session.get(Unit, people["city"]["a1"]).name = '=HYPERLINK("http://evil.example","x")'
        db.session.commit()
    district = people["city"]["a"]
    login("reviewer.a")
    response = client.get(f"/volunteers/records.xlsx?unit={district}&from=2017-01-01&to=2017-12-31")
    assert response.status_code == 200 and "spreadsheetml" in response.headers["Content-Type"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2]) for r in rows] == [(certified["a"], "张三", "*" * 14 + A[-4:]),
                                                  (certified["b"], "李四", "*" * 14 + B[-4:])]
    assert rows[0][5] == '=HYPERLINK("http://evil.example","x")'
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            assert not isinstance(cell.value, str) or (A not in cell.value and A[:6] not in cell.value)
    empty = client.get(f"/volunteers/records.xlsx?unit={district}&from=2018-01-01&to=2018-12-31")
    assert list(load_workbook(io.BytesIO(empty.data)).active.iter_rows(min_row=2)) == []
    assert client.get(f"/volunteers/records.xlsx?unit={district}&from=2017-12-31&to=2017-01-01").status_code == 400
    assert client.get(f"/volunteers/records.xlsx?unit={district}&from=x&to=2017-01-01").status_code == 400
    client.post("/logout")
    create_user("reviewer.b", people["city"]["b"], "reviewer")
    login("reviewer.b")
    assert client.get(f"/volunteers/records.xlsx?unit={district}&from=2017-01-01&to=2017-12-31").status_code == 403
