"""Votes in an approval block: who may vote, what counts, what the record keeps.

The city office's monthly selection (exemplar_review v1, ``select``) is a
quorum vote of the office's reviewers; the variants here change only its
approval rule, who may vote on their own nomination, and add a way back
(``send_back``) so a nomination can come to the vote a second time.
A mutation run of engine/perform.py (bin/mutation) found each of these
behaviours unguarded.
"""
import threading

import pytest
from flask_babel import force_locale
from sqlalchemy import event, select, update

from workflows.engine import effects as effect_registry
from workflows.engine.perform import ActionError, actions_for, open_vote, perform
from workflows.extensions import db
from workflows.models import AuditEvent, RoleGrant, Submission, Unit, User, Vote, WorkflowVersion

from .test_workflow_engine import new_report, people, user  # noqa: F401 - fixture and factories shared

QUORUM = "approval: {mode: quorum, n: 2, veto: false}"
SEND_BACK = ("\n  - {action: send_back, label: {zh: 退回区县, en: Send back}, from: nominated, to: submitted, "
             "by: office, comment: required}\n")


def variant(app, version, approval=QUORUM, not_self=False, effects="[freeze, notify]"):
    """A published copy of exemplar_review v1 with this approval rule and a way back from the vote."""
    with app.app_context():
        source = db.session.execute(select(WorkflowVersion.source).where(
            WorkflowVersion.key == "exemplar_review", WorkflowVersion.version == 1)).scalar_one()
        assert QUORUM in source
        changed = (source.replace("version: 1", f"version: {version}", 1)
                   .replace(QUORUM, approval)
                   .replace("effects: [freeze, notify]", f"effects: {effects}")
                   .replace("to: selected, by: office,", "to: selected, by: office, not_self: true,"
                            if not_self else "to: selected, by: office,")).rstrip("\n") + SEND_BACK
        row = WorkflowVersion(key="exemplar_review", version=version, form_key="exemplar_nomination",
                              sha256=f"{version:064d}", source=changed, status="published")
        db.session.add(row)
        db.session.commit()
        return row.id


def nominated(app, people, version_id):
    """A nomination of unit a1 on the variant, recommended by the district: the vote is open."""
    sid = new_report(app, people, form_key="exemplar_nomination")
    with app.test_request_context():
        db.session.execute(update(Submission).where(Submission.id == sid).values(workflow_version_id=version_id))
        db.session.commit()
        perform(sid, "nominate", user("reviewer.a"))
    return sid


@pytest.fixture
def offices(app, people, create_user):
    """Three office reviewers at the city, so a quorum of two is reachable."""
    for name in ("office2", "office3"):
        create_user(name, people["city"]["city"], "office")
    return ["office", "office2", "office3"]


def _refused(call):
    with pytest.raises(ActionError) as caught:
        call()
    return caught.value


def test_a_vote_is_for_or_against_and_one_against_needs_a_reason(app, people, offices):
    sid = nominated(app, people, variant(app, 101))
    with app.test_request_context():
        maybe = _refused(lambda: perform(sid, "select", user("office"), decision="abstain"))
        assert (maybe.status, maybe.message, maybe.details) == (422, "投票只能是同意或反对。", {"field": "decision"})
        silent = _refused(lambda: perform(sid, "select", user("office"), decision="reject"))
        assert (silent.status, silent.message, silent.details) == (
            422, "请填写意见：投反对票需要说明理由。", {"field": "comment"})
        assert db.session.execute(select(Vote.id).where(Vote.submission_id == sid)).first() is None
        assert db.session.get(Submission, sid).state == "nominated"


def test_an_open_vote_answers_with_the_count_and_keeps_who_said_what(app, people, offices):
    sid = nominated(app, people, variant(app, 102))
    with app.test_request_context():
        seen = db.session.get(Submission, sid).row_version
        result = perform(sid, "select", user("office"), comment="事迹感人")
        assert result.status == 200
        assert result.body == {"submission": sid, "action": "select", "from": "nominated", "to": "nominated",
                               "row_version": seen, "decided": False,
                               "votes": {"approve": 1, "reject": 0, "needed": 2, "missing": 1, "eligible": 3,
                                         "unreachable": 0}}
        vote = db.session.execute(select(Vote).where(Vote.submission_id == sid)).scalar_one()
        assert (vote.voter_id, vote.decision, vote.comment, vote.round) == (
            user("office").id, "approve", "事迹感人", seen)
        event = db.session.execute(select(AuditEvent).where(AuditEvent.submission_id == sid)
                                   .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        assert (event.action, event.actor_id, event.from_state, event.to_state, event.comment) == (
            "vote_approve", user("office").id, "nominated", "nominated", "事迹感人")


def test_the_deciding_vote_moves_the_nomination_with_the_deciders_reason(app, people, offices):
    version = variant(app, 103)
    chosen, dropped = nominated(app, people, version), nominated(app, people, version)
    with app.test_request_context():
        perform(chosen, "select", user("office"))
        perform(chosen, "select", user("office2"), comment="同意入选")
        perform(dropped, "select", user("office"), decision="reject", comment="事迹不突出")
        # Three eligible, two needed: a second vote against leaves the quorum out of reach.
        perform(dropped, "select", user("office2"), decision="reject", comment="材料不全")
        for sid, action, to, comment in ((chosen, "select", "selected", "同意入选"),
                                         (dropped, "reject", "not_selected", "材料不全")):
            last = db.session.execute(select(AuditEvent).where(AuditEvent.submission_id == sid)
                                      .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
            assert (last.action, last.to_state, last.actor_id, last.comment) == (
                action, to, user("office2").id, comment)
            assert db.session.get(Submission, sid).state == to


def test_one_vote_against_leaves_the_vote_open_while_the_quorum_can_still_be_reached(app, people, offices):
    sid = nominated(app, people, variant(app, 104))
    with app.test_request_context():
        result = perform(sid, "select", user("office"), decision="reject", comment="再看看")
        # 3 eligible, 1 against: 2 can still approve, which is the quorum.
        assert result.body["decided"] is False and result.body["votes"] == {
            "approve": 0, "reject": 1, "needed": 2, "missing": 2, "eligible": 3, "unreachable": 0}
        assert db.session.get(Submission, sid).state == "nominated"
        # One of the two who could still approve leaves: the page says one approval can no longer come.
        db.session.execute(update(User).where(User.username == "office3").values(active=False))
        db.session.commit()
        tally = open_vote(db.session.get(Submission, sid))
        assert {k: tally[k] for k in ("eligible", "missing", "unreachable")} == {
            "eligible": 2, "missing": 2, "unreachable": 1}


def test_each_voter_votes_once_a_round_and_only_this_rounds_votes_count(app, people, offices):
    version = variant(app, 105)
    first, second = nominated(app, people, version), nominated(app, people, version)
    with app.test_request_context():
        assert db.session.get(Submission, first).row_version == db.session.get(Submission, second).row_version
        perform(first, "select", user("office"))
        # The button is gone for the one who voted, not for the others, nor on another nomination.
        # What is left to the one who voted: the other decisions from this state, in the definition's order.
        assert [t.action for t in actions_for(user("office"), db.session.get(Submission, first))] == [
            "reject", "send_back"]
        assert "select" in [t.action for t in actions_for(user("office2"), db.session.get(Submission, first))]
        assert "select" in [t.action for t in actions_for(user("office"), db.session.get(Submission, second))]
        # Each nomination's tally counts its own votes.
        assert open_vote(db.session.get(Submission, first))["approve"] == 1
        assert open_vote(db.session.get(Submission, second))["approve"] == 0
        twice = _refused(lambda: perform(first, "select", user("office")))
        assert (twice.status, twice.message) == (409, "您已对这份填报投过票。")
        assert perform(second, "select", user("office")).body["votes"]["approve"] == 1

        # Sent back and recommended again: a new round, in which the first round's vote no longer counts.
        perform(first, "send_back", user("office"), comment="请补充材料")
        perform(first, "nominate", user("reviewer.a"))
        again = perform(first, "select", user("office2"))
        assert again.body["decided"] is False and again.body["votes"]["approve"] == 1
        assert open_vote(db.session.get(Submission, first))["approve"] == 1
        assert "select" in [t.action for t in actions_for(user("office"), db.session.get(Submission, first))]
        assert perform(first, "select", user("office")).body["to"] == "selected"


def test_eligible_voters_are_the_active_holders_at_or_above_the_unit_but_not_its_author(app, people, offices,
                                                                                          create_user):
    city = people["city"]
    create_user("office.b", city["b"], "office")               # another district: not above a1
    create_user("office.gone", city["city"], "office", active=False)
    create_user("office.a", city["a"], "office")               # above a1, but its district is closed below
    sid = nominated(app, people, variant(app, 106, approval="approval: {mode: all}", not_self=True))
    with app.app_context():
        # The nomination's author also holds the role: with not_self they do not vote on it.
        db.session.add(RoleGrant(user_id=people["filler"], unit_id=city["city"], role="office"))
        db.session.execute(update(Unit).where(Unit.id == city["a"]).values(active=False))
        db.session.commit()
    with app.test_request_context():
        tally = open_vote(db.session.get(Submission, sid))
        assert (tally["eligible"], tally["needed"], tally["missing"]) == (3, 3, 3)  # office, office2, office3
        assert (tally["action"], tally["label"]) == ("select", "评选入选")
        with force_locale("en"):
            assert open_vote(db.session.get(Submission, sid))["label"] == "Select"
        perform(sid, "select", user("office"))
        assert perform(sid, "select", user("office2")).body["decided"] is False
        assert perform(sid, "select", user("office3")).body["to"] == "selected"


def test_all_must_approve_and_the_count_follows_who_is_still_there(app, people, offices):
    sid = nominated(app, people, variant(app, 107, approval="approval: {mode: all}"))
    with app.test_request_context():
        perform(sid, "select", user("office"))
        perform(sid, "select", user("office2"))
        db.session.execute(update(User).where(User.username == "office3").values(active=False))
        db.session.commit()
        # The one missing voter left: everyone still there has approved, nothing is missing any more.
        tally = open_vote(db.session.get(Submission, sid))
        assert (tally["approve"], tally["needed"], tally["missing"], tally["unreachable"]) == (2, 2, 0, 0)


def test_an_action_not_possible_now_is_named_in_the_readers_language(app, people):
    sid = new_report(app, people, state_after="approved")
    with app.test_request_context(), force_locale("en"):
        refused = _refused(lambda: perform(sid, "approve", user("reviewer.a")))
        assert refused.status == 422
        assert refused.message == "“Approve” is not possible while the submission is “Awaiting certification”.", refused.message


def test_only_a_counted_vote_has_a_tally(app, people, offices):
    """Where one person decides (no approval block, or mode ``any``) the page shows no vote count."""
    report = new_report(app, people)
    anyone = nominated(app, people, variant(app, 108, approval="approval: {mode: any}"))
    with app.test_request_context():
        assert open_vote(db.session.get(Submission, report)) is None
        assert open_vote(db.session.get(Submission, anyone)) is None
        assert perform(anyone, "select", user("office2")).body["to"] == "selected"


def test_a_vote_cast_while_another_decided_the_round_is_told_who_decided(app, backend, people, offices):
    """office2 opened the vote; before their vote takes its turn on the row, office3's vote decides it."""
    if backend != "postgresql":
        pytest.skip("a real race needs concurrent writers: PostgreSQL")
    sid = nominated(app, people, variant(app, 109))
    with app.test_request_context():
        perform(sid, "select", user("office"))
    engine_ready, other_done = threading.Event(), threading.Event()
    outcome = {}

    def hold_before_the_lock(_conn, _cursor, statement, *_args):
        if threading.current_thread().name == "office2" and "FOR UPDATE" in statement and not engine_ready.is_set():
            engine_ready.set()
            other_done.wait(30)

    def vote(name):
        with app.test_request_context():
            try:
                outcome[name] = perform(sid, "select", user(name)).body["to"]
            except ActionError as refused:
                outcome[name] = (refused.status, refused.details.get("decided_by"), refused.details.get("action"))
            finally:
                db.session.remove()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", hold_before_the_lock)
    try:
        late = threading.Thread(target=vote, args=("office2",), name="office2")
        late.start()
        assert engine_ready.wait(30)
        vote("office3")
        other_done.set()
        late.join(30)
    finally:
        event.remove(engine, "before_cursor_execute", hold_before_the_lock)
    assert outcome == {"office3": "selected", "office2": (409, "Office3", "select")}, outcome
    with app.app_context():
        assert db.session.execute(select(Vote.voter_id).where(Vote.submission_id == sid)
                                  .order_by(Vote.id)).scalars().all() == [user("office").id, user("office3").id]


@pytest.fixture
def params_seen():
    """A test-only effect that keeps what each transition handed its effects (removed again after the test)."""
    seen = []
    effect_registry.effect("keep_params")(lambda context: seen.append((context.transition.action, context.params)))
    yield seen
    effect_registry._effects.pop("keep_params")


def test_the_deciding_vote_hands_its_parameters_to_the_effects(app, people, offices, params_seen):
    sid = nominated(app, people, variant(app, 110, effects="[keep_params, freeze, notify]"))
    with app.test_request_context():
        perform(sid, "select", user("office"), params={"note": "first"})
        perform(sid, "select", user("office2"), params={"note": "deciding"})
    assert params_seen == [("select", {"note": "deciding"})]
