"""The workflow engine: transitions by role, concurrency, idempotency, votes, deadlines, audit."""
import re
import threading
from datetime import date, datetime

import pytest
from sqlalchemy import func, select, update

from forms.answers import from_json
from forms.definition import DefinitionError, load_definition
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.engine import audit
from workflows.engine.deadlines import add_working_days, due_at
from workflows.engine.definition import load_workflow
from workflows.engine.perform import ActionError, perform
from workflows.extensions import db
from workflows.filling.submissions import summarise
from workflows.models import (AuditEvent, FormVersion, Notification, Snapshot, Submission, User, WorkflowVersion)



@pytest.fixture
def people(app, city, create_user):
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    return {
        "filler": create_user("filler.a1", city["a1"], "filler"),
        "filler2": create_user("filler2.a1", city["a1"], "filler"),
        "reviewer": create_user("reviewer.a", city["a"], "reviewer"),
        "reviewer_b": create_user("reviewer.b", city["b"], "reviewer"),
        "certifier": create_user("certifier.a", city["a"], "certifier"),
        "office": create_user("office", city["city"], "office"),
        "city": city,
    }


def user(name):
    return db.session.execute(select(User).where(User.username == name)).scalar_one()


RAW = {
    "activity_report": {"theme": "leifeng", "title": "测试活动", "held_on": "2017-03-05", "place": "A区",
                        "beneficiaries": "老人", "content": "为辖区老人打扫卫生、理发、测量血压，开展防诈骗宣传。" * 3,
                        "has_media": "0", "roster": [{"name": "张三", "id_number": "341201199003071232", "hours": "3"}],
                        "photos": [{"id": "t", "name": "a.jpg"}], "person_in_charge": "王", "contact_phone": "13800138000",
                        "recorder": "李"},
    "exemplar_nomination": {"kind": "collective", "month": "2017-03", "name": "A区学雷锋志愿服务队",
                            "organisation": "A区文明办", "deeds": "常年开展关爱孤寡老人志愿服务。" * 20,
                            "photos": [{"id": "t", "name": "a.jpg"}], "recommender": "王", "contact_phone": "13800138000"},
}


def complete_answers(form):
    from forms.answers import to_json, validate
    from workflows.filling.personal_data import protect
    outcome = validate(form.spec, RAW[form.key], today=date(2017, 12, 31))
    assert outcome.ok, outcome.errors
    return protect(form.spec, to_json(outcome.values))


def new_report(app, people, form_key="activity_report", unit="a1", state_after="submitted"):
    """A report by filler.a1 moved by the engine up to ``state_after``."""
    with app.test_request_context():
        form = db.session.execute(select(FormVersion).where(FormVersion.key == form_key)
                                   .order_by(FormVersion.version.desc())).scalars().first()
        workflow = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.form_key == form_key)
                                      .order_by(WorkflowVersion.version)).scalars().first()
        submission = Submission(definition=form, form_key=form.key, form_version=form.version,
                                form_sha256=form.sha256, unit_id=people["city"][unit],
                                created_by_id=people["filler"], workflow=workflow, state="draft",
                                answers=complete_answers(form), row_version=1, title="测试活动")
        summarise(submission, form.spec, from_json(form.spec, submission.answers))  # as a save does
        submission.title = "测试活动"
        db.session.add(submission)
        db.session.commit()
        path = {"submitted": [("submit", "filler.a1")],
                "approved": [("submit", "filler.a1"), ("approve", "reviewer.a")],
                "certified": [("submit", "filler.a1"), ("approve", "reviewer.a"), ("certify", "certifier.a")],
                "archived": [("submit", "filler.a1"), ("approve", "reviewer.a"), ("certify", "certifier.a"),
                             ("archive", "office")]}.get(state_after, [])
        for action, who in path:
            perform(submission.id, action, user(who))
        return submission.id


def state_of(app, submission_id):
    with app.app_context():
        return db.session.get(Submission, submission_id).state


ALLOWED = [  # (state before, action, who may, who may not)
    ("draft", "submit", "filler.a1", ["filler2.a1", "reviewer.a", "office"]),
    ("submitted", "withdraw", "filler.a1", ["reviewer.a", "filler2.a1"]),
    ("submitted", "approve", "reviewer.a", ["filler.a1", "certifier.a", "office"]),
    ("submitted", "return", "reviewer.a", ["filler.a1", "certifier.a"]),
    ("submitted", "reject", "reviewer.a", ["filler.a1", "office"]),
    ("approved", "certify", "certifier.a", ["reviewer.a", "filler.a1", "office"]),
    ("certified", "archive", "office", ["reviewer.a", "certifier.a"]),
    ("archived", "publish", "office", ["reviewer.a", "certifier.a", "filler.a1"]),
]
EXPECTED = {"submit": "submitted", "withdraw": "draft", "approve": "approved", "return": "returned",
            "reject": "rejected", "certify": "certified", "archive": "archived", "publish": "published"}


@pytest.mark.parametrize("before, action, allowed, refused", ALLOWED, ids=[a[1] for a in ALLOWED])
def test_every_transition_by_an_allowed_and_a_refused_role(app, people, before, action, allowed, refused):
    submission_id = new_report(app, people, state_after=before)
    with app.test_request_context():
        for name in refused:
            with pytest.raises(ActionError) as caught:
                perform(submission_id, action, user(name), comment="意见")
            assert caught.value.status in (403, 404), (name, caught.value.message)
        assert state_of(app, submission_id) == before
        result = perform(submission_id, action, user(allowed), comment="意见")
        assert result.status == 200 and result.body["to"] == EXPECTED[action]
    assert state_of(app, submission_id) == EXPECTED[action]


def test_an_incomplete_draft_cannot_be_submitted_by_any_door(app, people, client, login):
    submission_id = new_report(app, people, state_after="draft")
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.id == submission_id).values(answers={"title": "半截"}))
        db.session.commit()
    login("filler.a1")
    response = client.post(f"/submissions/{submission_id}/actions/submit", data={"expected_version": 1},
                           follow_redirects=True)
    assert "表单尚未填写完整" in response.get_data(as_text=True)
    assert state_of(app, submission_id) == "draft"


def test_other_district_cannot_see_or_act(app, people, client, login, create_user):
    submission_id = new_report(app, people)
    with app.test_request_context():
        with pytest.raises(ActionError) as caught:
            perform(submission_id, "approve", user("reviewer.b"))
        assert caught.value.status == 404
    # Something in district B, so that reviewer.b's queue is not empty for want of anything to show.
    filler_b = create_user("filler.b1", people["city"]["b1"], "filler")
    elsewhere = new_report(app, people, unit="b1", state_after="draft")
    with app.test_request_context():
        db.session.execute(update(Submission).where(Submission.id == elsewhere).values(created_by_id=filler_b))
        db.session.commit()
        perform(elsewhere, "submit", user("filler.b1"))
    login("reviewer.b")
    assert client.get(f"/submissions/{submission_id}").status_code == 404
    assert client.post(f"/submissions/{submission_id}/actions/approve", data={"expected_version": 2}).status_code == 404
    assert queue_ids(client) == [elsewhere]
    assert state_of(app, submission_id) == "submitted"
    # Positive control: the district's own reviewer has it, and only it, in the queue.
    own = app.test_client()
    own.post("/login", data={"username": "reviewer.a", "password": "correct-horse-1"})
    assert queue_ids(own) == [submission_id]


def queue_ids(client):
    """The submissions a reviewer's queue page lists, by the ids of their checkboxes and links."""
    page = client.get("/review/").get_data(as_text=True)
    boxes = [int(i) for i in re.findall(r'name="ids" value="(\d+)"', page)]
    links = [int(i) for i in re.findall(r'<td><a href="/submissions/(\d+)\?back=', page)]
    assert boxes == links, (boxes, links)
    return boxes


def test_return_needs_a_comment_and_the_owner_sees_it(app, people, client, login):
    submission_id = new_report(app, people)
    with app.test_request_context():
        with pytest.raises(ActionError) as caught:
            perform(submission_id, "return", user("reviewer.a"), comment="  ")
        assert caught.value.status == 422 and caught.value.details["field"] == "comment"
        perform(submission_id, "return", user("reviewer.a"), comment="请补充活动照片")
    login("filler.a1")
    page = client.get(f"/submissions/{submission_id}").get_data(as_text=True)
    # The owner sees who returned it and why, its state, and the way back into the form.
    assert '<strong>Reviewer.A：</strong>请补充活动照片</div>' in page and "退回修改" in page
    assert f'href="/submissions/{submission_id}/edit">修改后重新提交</a>' in page
    edit = client.get(f"/submissions/{submission_id}/edit")
    assert edit.status_code == 200
    form = edit.get_data(as_text=True)
    assert 'value="测试活动"' in form and 'value="submit"' in form  # the stored answers, ready to resubmit
    assert 'value="A区"' in form and 'value="张三"' in form and 'value="341201199003071232"' in form


def test_not_self_refuses_deciding_ones_own(app, people, create_user):
    both = create_user("both.a1", people["city"]["a1"], "filler", ("reviewer", people["city"]["a"]))
    with app.test_request_context():
        submission_id = new_report(app, people)
        db.session.execute(update(Submission).where(Submission.id == submission_id).values(created_by_id=both))
        db.session.commit()
        with pytest.raises(ActionError) as caught:
            perform(submission_id, "approve", db.session.get(User, both))
        assert caught.value.status == 403


def _race(app, submission_id, version, names):
    results = []

    def decide(name):
        with app.test_request_context():
            try:
                results.append(perform(submission_id, "approve", user(name), expected_version=version).status)
            except ActionError as refused:
                results.append((refused.status, refused.details.get("decided_by")))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_reviewers_at_once_exactly_one_wins_200_times(app, people, create_user):
    create_user("reviewer2.a", people["city"]["a"], "reviewer")
    submission_id = new_report(app, people)
    for _ in range(200):
        with app.app_context():
            db.session.execute(update(Submission).where(Submission.id == submission_id).values(state="submitted"))
            db.session.commit()
            version = db.session.get(Submission, submission_id).row_version
            before = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
        results = _race(app, submission_id, version, ["reviewer.a", "reviewer2.a"])
        wins = [r for r in results if r == 200]
        losses = [r for r in results if r != 200]
        assert len(wins) == 1 and len(losses) == 1, results
        assert losses[0][0] == 409 and losses[0][1] in ("Reviewer.A", "Reviewer2.A")
        with app.app_context():
            after = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
            assert after == before + 1
            assert db.session.get(Submission, submission_id).row_version == version + 1


def test_same_idempotency_key_twice_is_one_transition(app, people):
    submission_id = new_report(app, people)
    with app.test_request_context():
        reviewer = user("reviewer.a")
        first = perform(submission_id, "approve", reviewer, expected_version=2, idempotency_key="abc")
        again = perform(submission_id, "approve", reviewer, expected_version=2, idempotency_key="abc")
        assert again.replayed and again.body == first.body and again.status == 200
        events = db.session.execute(select(AuditEvent.action).where(AuditEvent.submission_id == submission_id)
                                    .order_by(AuditEvent.seq)).scalars().all()
        assert events == ["submit", "approve"]
        with pytest.raises(ActionError) as caught:
            perform(submission_id, "return", reviewer, comment="x", idempotency_key="abc")
        assert caught.value.status == 422


def test_quorum_two_of_three_with_veto(app, people, create_user):
    city = people["city"]
    for name in ("office2", "office3"):
        create_user(name, city["city"], "office")
    with app.test_request_context():
        # v1 votes by quorum (v2 leaves the selection to the monthly ballot); a vetoing copy as version 91.
        exemplar = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.key == "exemplar_review",
                                                                    WorkflowVersion.version == 1)).scalar_one()
        vetoing = exemplar.source.replace("veto: false", "veto: true").replace("version: 1", "version: 91", 1)
        db.session.add(WorkflowVersion(key="exemplar_review", version=91, form_key="exemplar_nomination",
                                       sha256="x" * 64, source=vetoing, status="published"))
        db.session.commit()
    # Quorum reached: two approvals of three.
    first = new_report(app, people, form_key="exemplar_nomination")
    second = new_report(app, people, form_key="exemplar_nomination")
    with app.test_request_context():
        for submission_id in (first, second):
            db.session.execute(update(Submission).where(Submission.id == submission_id).values(
                workflow_version_id=select(WorkflowVersion.id).where(WorkflowVersion.version == 91,
                                                                     WorkflowVersion.key == "exemplar_review")
                .scalar_subquery()))
            db.session.commit()
            perform(submission_id, "nominate", user("reviewer.a"))
        vote = perform(first, "select", user("office"))
        assert vote.body["decided"] is False and vote.body["votes"] == {
            "approve": 1, "reject": 0, "needed": 2, "missing": 1, "eligible": 3, "unreachable": 0}
        with pytest.raises(ActionError) as twice:
            perform(first, "select", user("office"))
        assert twice.value.status == 409
        done = perform(first, "select", user("office2"))
        assert done.body["decided"] and done.body["to"] == "selected"
        # The third voter's entry is gone: nothing left to decide.
        with pytest.raises(ActionError):
            perform(first, "select", user("office3"))
        # Veto: one rejection ends it at once.
        perform(second, "select", user("office"))
        vetoed = perform(second, "select", user("office2"), decision="reject", comment="事迹不够典型")
        assert vetoed.body["to"] == "not_selected"
        assert db.session.get(Submission, second).state == "not_selected"
        assert db.session.execute(select(func.count()).select_from(Snapshot)).scalar() == 1  # freeze on select


def test_deadline_across_the_2017_national_day_holiday():
    # 2017-09-30 (a Saturday) was a make-up working day; 10-01..10-08 the holiday.
    assert add_working_days(date(2017, 9, 29), 5) == date(2017, 10, 12)
    assert due_at(datetime(2017, 9, 29, 16, 0), "P5WD") == datetime(2017, 10, 12, 23, 59, 59)
    assert due_at(datetime(2017, 9, 29, 16, 0), "PT48H") == datetime(2017, 10, 1, 16, 0)
    assert due_at(datetime(2017, 9, 29, 16, 0), "P1W") == datetime(2017, 10, 6, 16, 0)


def test_overdue_items_get_reminders_once_a_day(app, people):
    submission_id = new_report(app, people)
    from workflows import jobs
    with app.test_request_context():
        db.session.execute(update(Submission).where(Submission.id == submission_id)
                           .values(due_at=datetime(2017, 10, 12, 23, 59, 59)))
        db.session.commit()
        for _ in range(2):
            jobs.enqueue("overdue_reminders")
            db.session.commit()
            jobs.dispatcher().wait_idle()
        reminded = db.session.execute(select(User.username).join(Notification, Notification.user_id == User.id)
                                      .where(Notification.kind == "reminder")).scalars().all()
        assert reminded == ["reviewer.a"]


def test_audit_verify_detects_a_tampered_event(app, people):
    submission_id = new_report(app, people, state_after="certified")
    runner = app.test_cli_runner()
    assert "every chain intact" in runner.invoke(args=["audit", "verify"]).output
    with app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.submission_id == submission_id, AuditEvent.seq == 2)
                           .values(comment="悄悄改过"))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"submission {submission_id}, event 2 (approve)" in result.output
    with app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.submission_id == submission_id, AuditEvent.seq == 2)
                           .values(comment=None))
        db.session.execute(db.delete(AuditEvent).where(AuditEvent.submission_id == submission_id, AuditEvent.seq == 3))
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "missing" in result.output


def test_migrate_moves_in_flight_submissions_explicitly(app, people):
    waiting = new_report(app, people)
    finished = new_report(app, people, state_after="archived")
    with app.test_request_context():
        v1 = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.key == "activity_review")).scalar_one()
        source = v1.source.replace("version: 1", "version: 2", 1).replace("submitted:", "in_review:") \
            .replace("to: submitted", "to: in_review").replace("from: submitted", "from: in_review")
        path = app.instance_path + "/activity_review_v2.yaml"
        open(path, "w", encoding="utf-8").write(source)
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["workflows", "load", path])
    assert loaded.exit_code == 0, loaded.output
    refused = runner.invoke(args=["workflows", "migrate", "activity_review", "--to", "2"])
    assert refused.exit_code != 0 and "submitted" in refused.output
    moved = runner.invoke(args=["workflows", "migrate", "activity_review", "--to", "2", "--map", "submitted=in_review"])
    assert moved.exit_code == 0, moved.output
    with app.test_request_context():
        assert db.session.get(Submission, waiting).state == "in_review"
        assert db.session.get(Submission, finished).state == "archived"  # archived moves too, same name
        last = audit.history(waiting)[-1]
        assert (last.action, last.from_state, last.to_state) == ("migrate", "submitted", "in_review")
        perform(waiting, "approve", user("reviewer.a"))
        assert db.session.get(Submission, waiting).state == "approved"
    assert "every chain intact" in runner.invoke(args=["audit", "verify"]).output


WF_HEAD = "key: t\nversion: 1\nform: tform\n"
FORM = load_definition("key: tform\nversion: 1\ntitle: t\nfields:\n  - {name: hours, type: decimal}\n")


@pytest.mark.parametrize("body, message", [
    ("states: {a: {label: A}, b: {label: B}, c: {label: C}}\ntransitions:\n  - {action: go, from: a, to: b, by: owner}\n",
     "states.c: unreachable state 'c'"),
    ("states: {a: {label: A}, b: {label: B, final: true}}\ntransitions:\n  - {action: go, from: a, to: b, by: owner}\n"
     "  - {action: back, from: b, to: a, by: owner}\n", "transitions[1].from[0]: 'b' is a final state"),
    ("states: {a: {label: A}, b: {label: B}}\ntransitions:\n  - {action: go, from: a, to: b, by: chief}\n",
     "transitions[0].by: unknown role 'chief'"),
    ("states: {a: {label: A}, b: {label: B}}\ntransitions:\n  - {action: go, from: a, to: b, by: owner, effects: [launch]}\n",
     "transitions[0].effects[0]: unknown effect 'launch'"),
    ("states: {a: {label: A}, b: {label: B}}\ntransitions:\n  - {action: go, from: a, to: b, by: owner, when: 'hourz > 1'}\n",
     "transitions[0].when: unknown name 'hourz'"),
    ("states: {a: {label: A}, b: {label: B}}\ntransitions:\n  - {action: go, from: a, to: b, by: owner, when: '1 > 0'}\n",
     "transitions[0].when: names no field of the form"),
])
def test_workflow_definition_errors_point_at_the_key(app, body, message):
    with app.app_context(), pytest.raises(DefinitionError) as caught:
        load_workflow(WF_HEAD + body, FORM)
    assert any(str(p).startswith(message) for p in caught.value.problems), caught.value.problems


def test_when_guards_a_transition(app):
    source = WF_HEAD + ("states: {a: {label: A}, b: {label: B}}\ntransitions:\n"
                        "  - {action: go, from: a, to: b, by: owner, when: 'hours >= 2'}\n")
    spec = load_workflow(source, FORM)
    go = spec.find("a", "go")
    assert spec.when_holds(go, FORM, {"hours": 3}) and not spec.when_holds(go, FORM, {"hours": 1})


def test_queue_is_oldest_first_and_pages_by_keyset(app, people):
    ids = [new_report(app, people) for _ in range(5)]
    from workflows.review import queue
    with app.test_request_context():
        reviewer = user("reviewer.a")
        first = queue.page(reviewer, limit=2)
        assert [s.id for s in first.items] == ids[:2] and first.counts["all"] == 5
        second = queue.page(reviewer, cursor=first.next_cursor, limit=2)
        third = queue.page(reviewer, cursor=second.next_cursor, limit=2)
        assert [s.id for s in second.items] == ids[2:4] and [s.id for s in third.items] == ids[4:]
        assert third.next_cursor is None
        assert queue.page(user("reviewer.b")).items == []
        assert queue.page(user("filler.a1")).items == []
        perform(ids[0], "approve", reviewer)
        assert ids[0] not in [s.id for s in queue.page(reviewer).items]
        assert [s.id for s in queue.page(user("certifier.a")).items] == [ids[0]]


def test_next_actors_are_notified_and_see_it_at_home(app, people, client, login):
    submission_id = new_report(app, people)
    with app.app_context():
        told = db.session.execute(select(User.username).join(Notification, Notification.user_id == User.id)
                                  .where(Notification.submission_id == submission_id)).scalars().all()
    assert told == ["reviewer.a"]
    login("reviewer.a")
    assert "测试活动" in client.get("/").get_data(as_text=True)
