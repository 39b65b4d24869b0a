"""Corrections through the volunteer's page (issue 9, item 4): ask, amend, refuse, revoke — never delete.

The volunteer's unit asks on the volunteer's behalf; a certifier of the
organising unit decides. Every refusal keeps what was typed and writes
nothing; a page gone stale is refused; the audit chain still verifies.
"""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import AuditEvent, Notification, ServiceRecord

from .test_volunteers import A, B, approved_report, audit_verify_exit, people, user, volunteer  # noqa: F401


@pytest.fixture
def certified(app, people):
    """张三 (A) 3 hours and 李四 (B) 4 hours, certified at unit a1 by the district's certifier."""
    report = approved_report(app, people, [("张三", A, 3), ("李四", B, 4)])
    with app.test_request_context():
        perform(report, "certify", user("certifier.a"))
    with app.app_context():
        record = db.session.execute(select(ServiceRecord).where(
            ServiceRecord.volunteer_id == volunteer(A).id, ServiceRecord.is_current.is_(True))).scalar_one()
        return {"number": volunteer(A).number, "key": record.record_key, "report": report}


def _current(app, key):
    with app.app_context():
        return db.session.execute(select(ServiceRecord).where(
            ServiceRecord.record_key == key, ServiceRecord.is_current.is_(True))
            .execution_options(populate_existing=True)).scalar_one()


def _versions(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(ServiceRecord)).scalar()


def _totals(app):
    with app.app_context():
        person = volunteer(A)
        return person.hours_total, person.person_times


RECORD_KINDS = ("record_correction", "record_amended", "record_correction_refused")


def _told(app, username):
    with app.app_context():
        return db.session.execute(select(Notification.text).where(
            Notification.user_id == user(username).id, Notification.kind.in_(RECORD_KINDS))).scalars().all()


def _post(client, certified, form, version, **data):
    return client.post(f"/volunteers/records/{certified['key']}/{form}",
                       data={"expected_version": version, "form": "ask" if form == "correction" else form, **data})


def test_the_units_filler_asks_and_the_organisers_certifier_amends(app, people, certified, client, login):
    login("filler.a1")
    page = client.get(f"/volunteers/{certified['number']}").get_data(as_text=True)
    assert f'action="/volunteers/records/{certified["key"]}/correction"' in page
    assert f"/volunteers/records/{certified['key']}/amend" not in page  # a filler does not decide
    response = _post(client, certified, "correction", 1, hours="2", reason="实际服务2小时")
    assert response.status_code == 302
    record = _current(app, certified["key"])
    assert (record.version, record.change, record.correction_open, record.requested_hours, record.hours) == (
        2, "request", True, Decimal("2.0"), Decimal("3.0"))
    assert _totals(app) == (Decimal("3.0"), 1)  # a request changes nothing yet
    assert _told(app, "certifier.a") == ["A区单位1申请更正张三在“学雷锋志愿服务活动”（2017-03-05）的服务记录，请核实：实际服务2小时"]
    client.post("/logout")

    login("certifier.a")
    page = client.get(f"/volunteers/{certified['number']}").get_data(as_text=True)
    assert "更正申请" in page and "实际服务2小时" in page and 'value="2.0"' in page
    response = _post(client, certified, "amend", 2, hours="2", reason="核实签到表")
    assert response.status_code == 302
    record = _current(app, certified["key"])
    assert (record.version, record.change, record.hours, record.correction_open) == (3, "amend", Decimal("2.0"),
                                                                                      False)
    assert _totals(app) == (Decimal("2.0"), 1)
    assert _told(app, "filler.a1") == ["张三在“学雷锋志愿服务活动”的服务记录已更正为 2 小时：核实签到表"]
    page = client.get(f"/volunteers/{certified['number']}").get_data(as_text=True)
    assert "历次版本" in page and "核实签到表" in page and "实际服务2小时" in page
    assert audit_verify_exit(app)[0] == 0


def test_each_correction_notice_reads_in_its_readers_language(app, people, certified, client, login):
    login("filler.a1")
    assert _post(client, certified, "correction", 1, hours="2", reason="实际服务2小时").status_code == 302
    client.post("/logout")
    login("certifier.a")
    home = client.get("/").get_data(as_text=True)
    assert "A区单位1申请更正张三在“学雷锋志愿服务活动”（2017-03-05）的服务记录，请核实：实际服务2小时" in home
    client.post("/language/en", data={"next": "/"})
    home = client.get("/").get_data(as_text=True)
    assert ("A区单位1 asks to correct the service record of 张三 at “学雷锋志愿服务活动” (2017-03-05); "
            "please check it: 实际服务2小时") in home
    assert _post(client, certified, "refuse", 2, reason="经核实无误").status_code == 302
    client.post("/logout")
    with app.app_context():
        user("filler.a1").language = "en"
        db.session.commit()
    login("filler.a1")
    home = client.get("/").get_data(as_text=True)
    assert ("The request to correct the service record of 张三 at “学雷锋志愿服务活动” was not granted: "
            "经核实无误") in home
    assert _post(client, certified, "correction", 3, hours="2", reason="再次申请").status_code == 302
    client.post("/logout")
    login("certifier.a")
    assert _post(client, certified, "amend", 4, hours="2", reason="核实签到表").status_code == 302
    client.post("/logout")
    login("filler.a1")
    home = client.get("/").get_data(as_text=True)
    assert "The service record of 张三 at “学雷锋志愿服务活动” was corrected (hours: 2): 核实签到表" in home
    client.post("/language/zh_CN", data={"next": "/"})
    home = client.get("/").get_data(as_text=True)
    assert "张三在“学雷锋志愿服务活动”的服务记录已更正为 2 小时：核实签到表" in home
    assert "张三在“学雷锋志愿服务活动”的服务记录更正申请未获同意：经核实无误" in home


def test_a_refusal_keeps_what_was_typed_and_writes_nothing(app, people, certified, client, login):
    login("filler.a1")
    before = _versions(app)
    response = _post(client, certified, "correction", 1, hours="30", reason="多报了")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "24" in text and 'value="30"' in text and 'value="多报了"' in text
    assert f'id="error-{certified["key"]}-ask"' in text and "<details class=\"record-form\" open>" in text
    response = _post(client, certified, "correction", 1, hours="", reason="  ")
    assert response.status_code == 422 and "请说明理由" in response.get_data(as_text=True)
    assert _versions(app) == before


def test_a_stale_page_is_refused(app, people, certified, client, login):
    login("certifier.a")
    assert _post(client, certified, "revoke", 1, reason="活动未开展").status_code == 302
    before = _versions(app)
    # A second tab still showing version 1 tries to revoke again, then to ask.
    stale = _post(client, certified, "revoke", 1, reason="重复操作")
    assert stale.status_code == 409 and "版本" in stale.get_data(as_text=True)
    assert _versions(app) == before


def test_refuse_then_revoke_and_the_totals_follow(app, people, certified, client, login):
    login("filler.a1")
    assert _post(client, certified, "correction", 1, reason="时长有误").status_code == 302
    client.post("/logout")
    login("certifier.a")
    assert _post(client, certified, "refuse", 2, reason="经核实无误").status_code == 302
    record = _current(app, certified["key"])
    assert (record.change, record.hours, record.correction_open) == ("refuse", Decimal("3.0"), False)
    assert _totals(app) == (Decimal("3.0"), 1)
    assert _post(client, certified, "revoke", 3, reason="活动未实际开展").status_code == 302
    record = _current(app, certified["key"])
    assert (record.status, record.version) == ("revoked", 4)
    assert _totals(app) == (Decimal("0.0"), 0)
    page = client.get(f"/volunteers/{certified['number']}").get_data(as_text=True)
    assert "已撤销" in page and f"/volunteers/records/{certified['key']}/revoke" not in page
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action).where(
            AuditEvent.submission_id == certified["report"]).order_by(AuditEvent.id)).scalars().all()
    assert actions[-3:] == ["record_request", "record_refuse", "record_revoke"]
    assert audit_verify_exit(app)[0] == 0


def test_who_may_do_what(app, people, certified, client, login, create_user):
    login("reviewer.a")  # sees the volunteer, neither asks nor decides
    page = client.get(f"/volunteers/{certified['number']}").get_data(as_text=True)
    assert "/volunteers/records/" not in page
    refused = _post(client, certified, "correction", 1, reason="想改")
    assert refused.status_code == 403
    assert _post(client, certified, "revoke", 1, reason="想撤").status_code == 403
    client.post("/logout")
    login("filler.a1")  # the volunteer's unit asks, but does not revoke
    assert _post(client, certified, "revoke", 1, reason="想撤").status_code == 403
    client.post("/logout")
    create_user("certifier.b2", people["city"]["b"], "certifier")
    login("certifier.b2")  # another district: the record is not there at all
    assert _post(client, certified, "revoke", 1, reason="想撤").status_code == 404
    assert client.post("/volunteers/records/nosuchkey/revoke", data={"reason": "x"}).status_code == 404
    assert _current(app, certified["key"]).version == 1
