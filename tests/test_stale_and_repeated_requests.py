"""What a person is told when their decision meets a change they did not see, or repeats an earlier request.

Found unguarded by a mutation run of engine/perform.py (bin/mutation): the
wording and details of a conflict when nobody or the system made the change,
its language, and the idempotency keys' edges (another person's key, another
request's key, a key on a submission that does not exist).
"""
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from workflows.engine.perform import ActionError, actions_for, perform
from workflows.extensions import db
from workflows.models import IdempotencyRecord, RoleGrant, Submission, WorkflowVersion

from .test_workflow_engine import new_report, people, user  # noqa: F401 - fixture and factories shared


def _refused(call):
    with pytest.raises(ActionError) as caught:
        call()
    return caught.value


def _version(sid):
    return db.session.get(Submission, sid).row_version


def test_a_draft_changed_in_another_tab_is_not_submitted_as_it_was_seen(app, people):
    sid = new_report(app, people, state_after="draft")
    with app.test_request_context():
        seen = _version(sid)
        # Saved again elsewhere (no audit event: a draft's saves are not decisions).
        db.session.execute(update(Submission).where(Submission.id == sid).values(row_version=seen + 1))
        db.session.commit()
        stale = _refused(lambda: perform(sid, "submit", user("filler.a1"), expected_version=seen))
        assert (stale.status, stale.message, stale.details) == (
            409, "您打开后这份填报已有变化。", {"state": "draft", "row_version": seen + 1})
        assert db.session.get(Submission, sid).state == "draft"


def test_a_decision_after_the_system_moved_the_item_names_the_system(app, people):
    sid = new_report(app, people)
    with app.test_request_context():
        seen = _version(sid)
        v1 = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.key == "activity_review")).scalar_one()
        path = app.instance_path + "/activity_review_v2.yaml"
        source = (v1.source.replace("version: 1", "version: 2", 1).replace("submitted:", "in_review:")
                  .replace("to: submitted", "to: in_review").replace("from: submitted", "from: in_review"))
        open(path, "w", encoding="utf-8").write(source)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["workflows", "load", path]).exit_code == 0
    moved = runner.invoke(args=["workflows", "migrate", "activity_review", "--to", "2", "--map",
                                "submitted=in_review"])
    assert moved.exit_code == 0, moved.output
    with app.test_request_context():
        stale = _refused(lambda: perform(sid, "approve", user("reviewer.a"), expected_version=seen))
        assert stale.status == 409
        assert re.fullmatch(r"已由系统于 \d{4}-\d\d-\d\d \d\d:\d\d 处理：“migrate”。", stale.message), stale.message
        assert (stale.details["decided_by"], stale.details["action"], stale.details["state"]) == (
            "系统", "migrate", "in_review")


def test_a_conflict_names_the_decision_in_the_readers_language(app, people, create_user):
    create_user("reviewer2.a", people["city"]["a"], "reviewer")
    sid = new_report(app, people)
    with app.test_request_context():
        seen = _version(sid)
        perform(sid, "approve", user("reviewer.a"), expected_version=seen)
        with force_locale("en"):
            stale = _refused(lambda: perform(sid, "approve", user("reviewer2.a"), expected_version=seen))
        assert stale.status == 409
        assert stale.message.startswith("Already decided by Reviewer.A: “Approve” at "), stale.message


def test_an_idempotency_key_is_each_persons_own_and_for_one_request(app, people, create_user):
    create_user("reviewer2.a", people["city"]["a"], "reviewer")
    sid, other = new_report(app, people), new_report(app, people)
    with app.test_request_context():
        first = perform(sid, "approve", user("reviewer.a"), idempotency_key="k-1")
        assert first.status == 200 and not first.replayed
        again = perform(sid, "approve", user("reviewer.a"), idempotency_key="k-1")
        assert again.replayed and again.body == first.body
        # The same key from someone else is their own request, not a replay of reviewer.a's answer.
        theirs = _refused(lambda: perform(sid, "approve", user("reviewer2.a"), idempotency_key="k-1"))
        assert theirs.status == 422 and "不能" in theirs.message
        # The same key for another submission is a mistake, said so; nothing happens to it.
        reused = _refused(lambda: perform(other, "approve", user("reviewer.a"), idempotency_key="k-1"))
        assert (reused.status, reused.message) == (422, "该幂等键已用于另一个请求。")
        assert db.session.get(Submission, other).state == "submitted"
        missing = _refused(lambda: perform(10 ** 8, "approve", user("reviewer.a"), idempotency_key="k-2"))
        assert (missing.status, missing.message) == (404, "没有这份填报。")
        assert db.session.execute(select(func.count()).select_from(IdempotencyRecord)).scalar() == 1


def test_each_person_is_offered_every_decision_open_to_them_in_order(app, people):
    sid = new_report(app, people)
    with app.test_request_context():
        submission = db.session.get(Submission, sid)
        assert [t.action for t in actions_for(user("reviewer.a"), submission)] == ["approve", "return", "reject"]
        assert [t.action for t in actions_for(user("filler.a1"), submission)] == ["withdraw"]
        assert actions_for(user("certifier.a"), submission) == []


def test_one_who_may_not_decide_on_their_own_nomination_is_still_offered_the_rest(app, people):
    """A district reviewer who also wrote the nomination may return or reject it, but not recommend it."""
    sid = new_report(app, people, form_key="exemplar_nomination")
    with app.app_context():
        db.session.add(RoleGrant(user_id=people["filler"], unit_id=people["city"]["a"], role="reviewer"))
        db.session.commit()
    with app.test_request_context():
        offered = [t.action for t in actions_for(user("filler.a1"), db.session.get(Submission, sid))]
        assert offered == ["withdraw", "return", "reject"]
