"""Volunteer pages (issue 9): the certifier's roster decisions, lists, search, leaderboards, the audited "show"."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import AuditEvent, Submission, Volunteer

from .test_volunteers import A, B, C, approved_report, current_records, people, user, volunteer  # noqa: F401


def _page(client, url):
    response = client.get(url)
    return response, response.get_data(as_text=True)


def _no_full_number(text, *numbers):
    for number in numbers:
        assert number not in text
        assert number[:6] not in text  # not even the region digits


@pytest.fixture
def certified(app, people):
    report = approved_report(app, people, [("张三", A, 3), ("李四", B, 4)])
    with app.test_request_context():
        perform(report, "certify", user("certifier.a"))
    with app.app_context():
        return {"report": report, "a": volunteer(A).number, "b": volunteer(B).number}


def test_the_certify_panel_lists_rows_with_last_four_only_and_writes_the_chosen_records(app, people, client, login):
    report = approved_report(app, people, [("张三", A, 3), ("李四", B, 4), ("王五", C, 2)])
    login("certifier.a")
    response, text = _page(client, f"/submissions/{report}")
    assert response.status_code == 200
    assert "张三" in text and "李四" in text and "王五" in text
    assert "**************" + A[-4:] in text and "未登记" in text
    assert f"/submissions/{report}/certify" in text and f"/actions/certify" not in text
    _no_full_number(text, A, B, C)
    with app.app_context():
        version = db.session.get(Submission, report).row_version
    response = client.post(f"/submissions/{report}/certify", data={
        "expected_version": version, "decision-0": "confirm",
        "decision-1": "correct", "hours-1": "2.5", "reason-1": "含路途时间",
        "decision-2": "exclude", "reason-2": "未实际到场"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        records = current_records(report)
        assert [(r.roster_row, r.hours, r.change) for r in records] == [
            (0, Decimal("3.0"), "certify"), (1, Decimal("2.5"), "correct")]
        assert db.session.get(Submission, report).state == "certified"
        assert volunteer(C) is None


def test_a_refused_certification_keeps_the_choices_and_shows_the_message_by_its_row(app, people, client, login):
    morning = approved_report(app, people, [("张三", A, 20)])
    evening = approved_report(app, people, [("李四", B, 2), ("张三", A, 5)])
    with app.test_request_context():
        perform(morning, "certify", user("certifier.a"))
    login("certifier.a")
    with app.app_context():
        version = db.session.get(Submission, evening).row_version
    response = client.post(f"/submissions/{evening}/certify", data={
        "expected_version": version, "decision-0": "correct", "hours-0": "1.5", "reason-0": "提前离场",
        "comment": "请核对"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "24" in text and "张三" in text
    assert 'value="1.5"' in text and "提前离场" in text and "请核对" in text
    assert '<option value="correct" selected>' in text
    _no_full_number(text, A, B)
    with app.app_context():
        assert current_records(evening) == []
        assert db.session.get(Submission, evening).state != "certified"


def test_the_list_searches_by_name_and_last_digits_and_another_district_sees_nothing(app, people, certified,
                                                                                     client, login, create_user):
    login("reviewer.a")
    response, text = _page(client, "/volunteers/")
    assert response.status_code == 200
    assert certified["a"] in text and certified["b"] in text and "A区单位1" in text
    _no_full_number(text, A, B)
    text = _page(client, "/volunteers/?q=张")[1]
    assert certified["a"] in text and certified["b"] not in text
    text = _page(client, f"/volunteers/?q={B[-3:]}")[1]
    assert certified["b"] in text and certified["a"] not in text
    text = _page(client, "/volunteers/?star=1")[1]
    assert certified["a"] not in text  # 3 hours: no star yet
    response, text = _page(client, f"/volunteers/{certified['a']}")
    assert response.status_code == 200 and "学雷锋志愿服务活动" in text and "3.0" in text
    _no_full_number(text, A)
    text = _page(client, "/volunteers/leaderboard?scope=district&year=2017")[1]
    assert text.index(certified["b"]) < text.index(certified["a"])  # 4 hours before 3
    client.post("/logout")
    create_user("reviewer.b", people["city"]["b"], "reviewer")
    login("reviewer.b")
    text = _page(client, "/volunteers/")[1]
    assert certified["a"] not in text and "张三" not in text
    assert client.get(f"/volunteers/{certified['a']}").status_code == 404
    assert certified["a"] not in _page(client, "/volunteers/leaderboard?scope=district&year=2017")[1]


def test_show_needs_a_reason_is_audited_shows_the_number_once_and_is_refused_to_a_reviewer(app, people, certified,
                                                                                          client, login):
    login("reviewer.a")
    assert client.post(f"/volunteers/{certified['a']}/reveal", data={"reason": "核实"}).status_code == 403
    assert client.post(f"/submissions/{certified['report']}/roster/0/reveal",
                       data={"reason": "核实"}).status_code == 403
    client.post("/logout")
    login("certifier.b")
    assert client.post(f"/volunteers/{certified['a']}/reveal", data={"reason": "核实"}).status_code == 404
    client.post("/logout")
    login("certifier.a")
    text = _page(client, f"/volunteers/{certified['a']}")[1]
    assert "reveal" in text
    _no_full_number(text, A)
    response = client.post(f"/volunteers/{certified['a']}/reveal", data={"reason": "  "})
    assert response.status_code == 422 and A not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "reveal_id")).first() is None
    response = client.post(f"/volunteers/{certified['a']}/reveal", data={"reason": "核实证书信息"})
    assert response.status_code == 200 and A in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]
    response = client.post(f"/submissions/{certified['report']}/roster/1/reveal", data={"reason": "核对名单"})
    assert response.status_code == 200 and B in response.get_data(as_text=True)
    with app.app_context():
        events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "reveal_id")
                                    .order_by(AuditEvent.id)).scalars().all()
        assert [e.comment for e in events] == ["核实证书信息", "核对名单"]
        assert all(e.submission_id == certified["report"] for e in events)
        assert all(A not in e.comment and B not in e.comment for e in events)
    # The volunteer's page again: still only the last four digits.
    _no_full_number(_page(client, f"/volunteers/{certified['a']}")[1], A)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_the_top_bar_leads_to_the_volunteers_list(app, people, client, login, create_user, city):
    login("filler.a1")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/volunteers/"' in home and "志愿者" in home
    assert client.get("/volunteers/").status_code == 200
    client.post("/logout")
    create_user("nobody", city["a1"])  # an account without any role has no units to look into
    login("nobody")
    assert 'href="/volunteers/"' not in client.get("/").get_data(as_text=True)
