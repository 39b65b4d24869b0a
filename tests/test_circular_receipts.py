"""Distribution and receipt (签收): the named units see a published circular, opening it signs for it once,
the office sees who has not and reminds their fillers at most once a day."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.documents.circulars import composing
from workflows.documents.circulars.receipts import REMINDER_KIND
from workflows.extensions import db
from workflows.models import Circular, CircularReceipt, Notification, Unit, User
from workflows.models.units import utcnow


@pytest.fixture
def published(app, city, create_user):
    """A monthly circular of the city office, signed and naming a1 and a2 (not b1)."""
    ids = {
        "office": create_user("office", city["city"], "office"),
        "filler_a1": create_user("filler.a1", city["a1"], "filler"),
        "reviewer_a1": create_user("reviewer.a1", city["a1"], "reviewer"),
        "filler_a2": create_user("filler.a2", city["a2"], "filler"),
        "filler_b1": create_user("filler.b1", city["b1"], "filler"),
        "district_a": create_user("office.a", city["a"], "office", "filler"),
    }
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
        with app.test_request_context():
            circular = composing.compose(db.session.get(Unit, city["city"]), "monthly", "2017-03",
                                         db.session.get(User, ids["office"]))
            circular.doc_number, circular.number_year, circular.sequence = "测文明办〔2017〕1号", 2017, 1
            circular.signed_on, circular.published_at = date(2017, 4, 3), utcnow()
            circular.submission.title = "关于2017年3月志愿服务工作开展情况的通报"
            db.session.add_all(CircularReceipt(circular_id=circular.id, unit_id=city[u]) for u in ("a1", "a2"))
            db.session.commit()
            ids["circular"] = circular.id
    return ids


def receipt(app, circular_id, unit_id):
    with app.app_context():
        row = db.session.get(CircularReceipt, (circular_id, unit_id))
        return row.opened_at, row.opened_by_id, row.reminded_at


def test_a_named_units_filler_sees_it_unopened_on_home_then_signed_for(app, client, login, city, published):
    login("filler.a1")
    home = client.get("/").get_data(as_text=True)
    assert "关于2017年3月志愿服务工作开展情况的通报" in home and "测文明办〔2017〕1号" in home
    assert f"/documents/circulars/{published['circular']}/read" in home
    assert "未签收" in home
    assert client.get(f"/documents/circulars/{published['circular']}/read").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert "已签收" in home and "未签收" not in home


def test_the_home_page_finds_them_in_one_query_without_the_facts(app, client, login, city, published):
    login("filler.a1")
    with app.app_context():
        statements = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
    touching = [s for s in statements if "circular_receipt" in s]
    assert len(touching) == 1
    assert "facts" not in touching[0]


def test_a_unit_not_named_sees_nothing_and_gets_404(app, client, login, city, published):
    login("filler.b1")
    assert "关于2017年3月志愿服务工作开展情况的通报" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/documents/circulars/{published['circular']}/read").status_code == 404
    assert client.get("/documents/circulars/99999/read").status_code == 404


def test_a_role_above_the_named_unit_does_not_sign_for_it(app, client, login, city, published):
    login("office.a")
    assert client.get(f"/documents/circulars/{published['circular']}/read").status_code == 404
    assert receipt(app, published["circular"], city["a1"])[0] is None


def test_opening_records_the_receipt_once(app, client, login, city, published):
    login("filler.a1")
    page = client.get(f"/documents/circulars/{published['circular']}/read")
    assert page.status_code == 200
    assert "关于2017年3月志愿服务工作开展情况的通报" in page.get_data(as_text=True)
    first = receipt(app, published["circular"], city["a1"])
    assert first[0] is not None and first[1] == published["filler_a1"]
    assert receipt(app, published["circular"], city["a2"])[0] is None
    client.post("/logout")
    login("reviewer.a1")
    with app.app_context():
        statements = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            assert client.get(f"/documents/circulars/{published['circular']}/read").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
    assert not any(s.lstrip().upper().startswith("UPDATE CIRCULAR_RECEIPT") for s in statements)
    assert receipt(app, published["circular"], city["a1"]) == first


def test_the_receipts_page_lists_who_has_not_opened_it(app, client, login, city, published):
    login("filler.a1")
    client.get(f"/documents/circulars/{published['circular']}/read")
    client.post("/logout")
    login("office")
    page = client.get(f"/documents/circulars/{published['circular']}/receipts")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "A区单位1" in text and "A区单位2" in text and "B区单位1" not in text
    assert "Filler.A1" in text  # the display name of who opened it
    assert text.count('<span class="tag tag-off">未签收') == 1 and text.count('<span class="tag">已签收') == 1
    assert "已签收 1 个，未签收 1 个" in text and "/remind" in text
    client.post("/logout")
    login("filler.b1")
    assert client.get(f"/documents/circulars/{published['circular']}/receipts").status_code == 404


def notes(app, kind=REMINDER_KIND):
    with app.app_context():
        return sorted(db.session.execute(select(Notification.user_id).where(Notification.kind == kind)).scalars())


def test_remind_notifies_only_the_unopened_units_fillers_once_a_day(app, client, login, city, published):
    login("filler.a1")
    client.get(f"/documents/circulars/{published['circular']}/read")
    client.post("/logout")
    login("filler.b1")
    assert client.post(f"/documents/circulars/{published['circular']}/remind").status_code == 404
    client.post("/logout")
    login("office")
    answer = client.post(f"/documents/circulars/{published['circular']}/remind", follow_redirects=True)
    assert answer.status_code == 200
    assert notes(app) == [published["filler_a2"]]
    assert "已提醒 1 个尚未签收的单位" in answer.get_data(as_text=True)
    reminded = receipt(app, published["circular"], city["a2"])[2]
    assert reminded is not None and receipt(app, published["circular"], city["a1"])[2] is None
    again = client.post(f"/documents/circulars/{published['circular']}/remind", follow_redirects=True)
    assert notes(app) == [published["filler_a2"]]
    assert receipt(app, published["circular"], city["a2"])[2] == reminded
    assert "没有提醒任何单位" in again.get_data(as_text=True)
    # A day later the unit that still has not opened it is reminded again.
    with app.app_context():
        row = db.session.get(CircularReceipt, (published["circular"], city["a2"]))
        row.reminded_at = reminded - timedelta(days=1, minutes=1)
        db.session.commit()
    client.post(f"/documents/circulars/{published['circular']}/remind")
    assert notes(app) == [published["filler_a2"], published["filler_a2"]]
    # The reminder links to the reading page.
    client.post("/logout")
    login("filler.a2")
    home = client.get("/").get_data(as_text=True)
    link = re.search(r'href="(/notifications/\d+)"', home).group(1)  # opening it marks it read
    with app.app_context():
        sid = db.session.get(Circular, published["circular"]).submission_id
    assert client.get(link).headers["Location"].endswith(f"/documents/circulars/of-submission/{sid}/read")
    assert client.get(f"/documents/circulars/of-submission/{sid}/read").headers["Location"].endswith(
        f"/documents/circulars/{published['circular']}/read")


def test_only_the_office_may_remind(app, client, login, city, published):
    login("reviewer.a1")
    assert client.post(f"/documents/circulars/{published['circular']}/remind").status_code == 404
    client.post("/logout")
    login("office.a")
    # A district office above a named unit is not the issuing office: it cannot view the city's submission.
    assert client.post(f"/documents/circulars/{published['circular']}/remind").status_code in (403, 404)
    assert notes(app) == []


def test_a_reminder_reads_in_its_readers_language(app, client, login, city, published, create_user):
    english = create_user("filler.a2.en", city["a2"], "filler")
    with app.app_context():
        db.session.get(User, english).language = "en"
        db.session.commit()
        office = db.session.get(Unit, city["city"]).name
    login("office")
    client.post(f"/documents/circulars/{published['circular']}/remind")
    client.post("/logout")
    login("filler.a2")
    home = client.get("/").get_data(as_text=True)
    assert (f"未签收：{office}的通报“关于2017年3月志愿服务工作开展情况的通报”（测文明办〔2017〕1号）尚未打开，"
            "请打开查看以完成签收。") in home
    client.post("/logout")
    login("filler.a2.en")
    home = client.get("/").get_data(as_text=True)
    assert (f"Not yet opened: the circular “关于2017年3月志愿服务工作开展情况的通报” (测文明办〔2017〕1号) of {office}. "
            "Please open it to confirm receipt.") in home
    assert "请打开查看以完成签收" not in home


def test_the_office_reads_how_many_were_reminded_in_the_singular_or_plural(app, client, login, city, published):
    login("filler.a1")
    client.get(f"/documents/circulars/{published['circular']}/read")
    client.post("/logout")
    login("office")
    client.post("/language/en", data={"next": "/"})
    answer = client.post(f"/documents/circulars/{published['circular']}/remind", follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "1 unit that had not opened the circular was reminded." in page
    assert "Opened by 1 of the 2 units it is sent to; 1 have not opened it." in client.get(
        f"/documents/circulars/{published['circular']}/receipts").get_data(as_text=True)
