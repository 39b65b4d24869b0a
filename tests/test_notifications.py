"""Notifications that mean something: read and unread, gone from "to do" once handled, in the reader's language."""
import re

import pytest
from sqlalchemy import select

from tests.test_workflow_engine import new_report, people, user  # noqa: F401 (the fixture)
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import Notification


@pytest.fixture
def two_reviewers(app, people, create_user):  # noqa: F811
    people["reviewer2"] = create_user("reviewer2.a", people["city"]["a"], "reviewer")
    return people


def _notes(app, username, kind=None):
    with app.app_context():
        stmt = select(Notification).where(Notification.user_id == user(username).id)
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        return db.session.execute(stmt.order_by(Notification.id)).scalars().all()


def _section(html, css_class):
    match = re.search(rf'<section class="card {css_class}">(.*?)</section>', html, re.S)
    return match.group(1) if match else ""


def _all_notes_section(html):
    return html.split("<h2>消息")[1].split("</section>")[0]


def test_opening_a_notification_marks_it_read_and_all_read_marks_the_rest(app, client, login, people):
    first, second = new_report(app, people), new_report(app, people)
    notes = _notes(app, "reviewer.a", "action_needed")
    assert [n.submission_id for n in notes] == [first, second] and all(n.read_at is None for n in notes)
    login("reviewer.a")
    home = client.get("/").get_data(as_text=True)
    assert "2 条未读" in home and home.count('<li class="unread">') == 2
    opened = client.get(f"/notifications/{notes[0].id}")
    assert opened.status_code == 302 and opened.location.endswith(f"/submissions/{first}")
    assert [n.read_at is not None for n in _notes(app, "reviewer.a", "action_needed")] == [True, False]
    home = client.get("/").get_data(as_text=True)
    assert "1 条未读" in home and home.count('<li class="unread">') == 1 and home.count('<li class="read">') == 1
    # Someone else's notification cannot be opened (or marked) by this reader.
    with app.app_context():
        db.session.add(Notification(user_id=people["filler"], submission_id=first, kind="state_changed", text="x"))
        db.session.commit()
    theirs = _notes(app, "filler.a1")
    assert client.get(f"/notifications/{theirs[0].id}").status_code == 404
    assert _notes(app, "filler.a1")[0].read_at is None
    assert client.get("/notifications/999999").status_code == 404
    # "All read" marks this reader's, and only this reader's.
    assert client.post("/notifications/read").status_code == 302
    assert all(n.read_at is not None for n in _notes(app, "reviewer.a"))
    assert all(n.read_at is None for n in _notes(app, "filler.a1"))
    home = client.get("/").get_data(as_text=True)
    assert "未读" not in home and '<li class="unread">' not in home


def test_an_item_someone_else_handled_leaves_the_others_to_do(app, client, login, two_reviewers):
    submission_id = new_report(app, two_reviewers)
    kept = new_report(app, two_reviewers)
    login("reviewer2.a")
    todo = _section(client.get("/").get_data(as_text=True), "todo")
    assert f"/notifications/{_notes(app, 'reviewer2.a')[0].id}" in todo and todo.count("<li") == 2
    with app.test_request_context():
        perform(submission_id, "approve", user("reviewer.a"))
    home = client.get("/").get_data(as_text=True)
    todo = _section(home, "todo")
    handled, waiting = _notes(app, "reviewer2.a", "action_needed")
    assert handled.submission_id == submission_id and waiting.submission_id == kept
    assert f"/notifications/{handled.id}\"" not in todo and f"/notifications/{waiting.id}\"" in todo
    # Still in the list of news, marked as handled by someone else.
    news = _all_notes_section(home)
    line = next(li for li in news.split("<li")[1:] if f"/notifications/{handled.id}\"" in li)
    assert "已有人处理" in line
    # Nothing is waiting any more: the to-do section goes.
    with app.test_request_context():
        perform(kept, "approve", user("reviewer.a"))
    assert _section(client.get("/").get_data(as_text=True), "todo") == ""


def test_messages_are_in_the_readers_language_and_old_rows_still_read(app, client, login, people):
    submission_id = new_report(app, people)
    with app.app_context():
        note = db.session.execute(select(Notification).where(Notification.kind == "action_needed")).scalars().first()
        assert note.params["state"] == {"zh": "待审核", "en": note.params["state"]["en"]}
        assert note.for_state == "submitted"
        # The stored Chinese wording is what it always was, for readers of the text column.
        assert note.text == "“测试活动”（A区单位1）待审核，请处理。"
        english_state = note.params["state"]["en"]
        db.session.add(Notification(user_id=note.user_id, submission_id=submission_id, kind="action_needed",
                                    text="旧的通知：请处理。"))  # written before kinds had parameters
        db.session.commit()
    login("reviewer.a")
    home = client.get("/").get_data(as_text=True)
    assert "“测试活动”（A区单位1）待审核，请处理。" in home and "旧的通知：请处理。" in home
    client.post("/language/en", data={"next": "/"})
    home = client.get("/").get_data(as_text=True)
    assert f"“测试活动” (A区单位1) is {english_state}; please handle it." in home
    assert "请处理。”" not in home and "待审核，请处理" not in home
    assert "旧的通知：请处理。" in home  # an old row reads as it was stored
    with app.test_request_context():
        perform(submission_id, "approve", user("reviewer.a"))
    told = _notes(app, "filler.a1", "state_changed")[0]
    assert told.text.startswith("您的填报“测试活动”现为：")
    client.post("/logout")
    login("filler.a1")
    client.post("/language/en", data={"next": "/"})
    assert (f"Your submission “测试活动” is now: {told.params['state']['en']}."
            in client.get("/").get_data(as_text=True))


def test_overdue_reminders_are_rendered_in_the_readers_language_and_leave_to_do_once_handled(app, client, login,
                                                                                              people):
    from datetime import timedelta

    from sqlalchemy import update

    from workflows.models import Submission
    from workflows.models.units import utcnow
    from workflows.review.notifications import send_overdue_reminders

    submission_id = new_report(app, people)
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.id == submission_id)
                           .values(due_at=utcnow() - timedelta(days=2)))
        db.session.commit()

        class Ctx:
            def progress(self, _):
                pass
        send_overdue_reminders(Ctx())
    reminder = _notes(app, "reviewer.a", "reminder")[0]
    assert reminder.text.startswith("已于 ") and "超期：“测试活动”（A区单位1）等待您办理。" in reminder.text
    login("reviewer.a")
    client.post("/language/en", data={"next": "/"})
    todo = _section(client.get("/").get_data(as_text=True), "todo")
    assert "Overdue since" in todo and "测试活动" in todo
    with app.test_request_context():
        perform(submission_id, "approve", user("reviewer.a"))
    assert _section(client.get("/").get_data(as_text=True), "todo") == ""
