"""The workflow engine's integrity (issue 14): a decision lands only on the version its reviewer saw, and
the audit trail betrays every change made to it behind the application's back.

- A reviewer who opened an item before it was returned, fixed and resubmitted cannot approve the new content
  with the old page (web) or the old ``expected_version`` (API): the answer names who changed it last, and
  nothing moves.
- When an owner's change and a reviewer's decision meet, exactly one wins; an owner's change that leaves the
  state where it was (an edit, or withdraw-edit-resubmit) still makes the reviewer's decision a conflict.
- ``flask audit verify`` fails, naming the submission, for every column an event's hash covers, for reordered,
  deleted and relinked events, for a rewritten head, and for an event re-signed on its own.
"""
import html
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, select, update

from workflows.engine import audit
from workflows.extensions import db
from workflows.models import AuditEvent, Submission, WorkflowVersion

from .test_api import photo
from .test_hardening_engine import bearer, token_for
from .test_workflow_engine import new_report, people, user  # noqa: F401 - the shared fixture and factories

WAIT = 20  # seconds a thread may wait for the other before the test gives up (it never should)


@pytest.fixture
def crew(people, create_user):  # noqa: F811 - the imported fixture
    """The shared people plus a second reviewer at district A."""
    return dict(people, reviewer2=create_user("reviewer2.a", people["city"]["a"], "reviewer"))


def trail(app, sid):
    """What a person could check afterwards: the state, the version and the audit trail's actions."""
    with app.app_context():
        submission = db.session.get(Submission, sid)
        actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.submission_id == sid)
                                     .order_by(AuditEvent.seq)).scalars().all()
        return submission.state, submission.row_version, actions


def api(client, plain, method, path, **body):
    response = client.open(f"/api/v1{path}", method=method, headers=bearer(plain), json=body)
    return response.status_code, response.get_json()


def the_fix(app, crew):
    """What the owner sends to fix a returned report: a new title and a photo uploaded for it."""
    return {"title": "补充照片后的活动", "photos": [{"id": photo(app, crew["city"]["a1"], crew["filler"])}]}


def owner_fixes_and_resubmits(app, crew, sid, version):
    """The owner corrects the returned item through the API and sends it again; returns the new version."""
    client, plain = app.test_client(), token_for(app, "filler.a1")
    status, body = api(client, plain, "PATCH", f"/submissions/{sid}", expected_version=version,
                       answers=the_fix(app, crew))
    assert status == 200, body
    status, body = api(client, plain, "POST", f"/submissions/{sid}/actions/submit",
                       expected_version=body["row_version"])
    assert status == 200 and body["to"] == "submitted", body
    return body["row_version"]


# --- a stale version after a return and a resubmit ------------------------------------------------------

@pytest.mark.parametrize("approver", ["reviewer.a", "reviewer2.a"], ids=["same-reviewer-old-page", "second-reviewer"])
@pytest.mark.parametrize("door", ["web", "api"])
def test_an_old_version_cannot_approve_what_was_resubmitted_since(app, crew, door, approver):
    sid = new_report(app, crew)
    # The approver opens the item and keeps that page (or that version) at hand.
    if door == "web":
        browser = app.test_client()
        browser.post("/login", data={"username": approver, "password": "correct-horse-1"})
        page = browser.get(f"/submissions/{sid}").get_data(as_text=True)
        seen = int(re.search(r'name="expected_version" value="(\d+)"', page).group(1))
        approve_url = html.unescape(re.search(r'formaction="([^"]*/actions/approve[^"]*)"', page).group(1))
    else:
        plain = token_for(app, approver)
        seen = app.test_client().get(f"/api/v1/submissions/{sid}", headers=bearer(plain)).get_json()["row_version"]
    # reviewer.a returns it; the owner fixes it and resubmits: the same state again, other content.
    status, body = api(app.test_client(), token_for(app, "reviewer.a"), "POST", f"/submissions/{sid}/actions/return",
                       expected_version=seen, comment="请补充活动照片")
    assert status == 200, body
    resubmitted = owner_fixes_and_resubmits(app, crew, sid, body["row_version"])
    before = trail(app, sid)
    assert before == ("submitted", resubmitted, ["submit", "return", "submit"]) and resubmitted > seen

    if door == "web":
        answer = browser.post(approve_url, data={"expected_version": seen, "comment": "同意"}, follow_redirects=True)
        told = " ".join(re.findall(r'<div class="flash flash-error" role="status">(.*?)</div>',
                                   answer.get_data(as_text=True), re.S))
        assert "Filler.A1" in told and "提交" in told, told  # who changed it last, and how
    else:
        status, body = api(app.test_client(), plain, "POST", f"/submissions/{sid}/actions/approve",
                           expected_version=seen, comment="同意")
        assert status == 409, body
        assert body["decided_by"] == "Filler.A1" and body["action"] == "submit", body
        assert (body["state"], body["row_version"]) == ("submitted", resubmitted)
    assert trail(app, sid) == before


# --- an owner's change racing a reviewer's decision -----------------------------------------------------

def _closable_when_returned(app, sid):
    """A workflow v2 where the reviewer may also reject an item still out for changes, and ``sid`` on it."""
    with app.app_context():
        versions = {v.version: v for v in db.session.execute(select(WorkflowVersion).where(
            WorkflowVersion.key == "activity_review")).scalars()}
        version = versions.get(2)
        if version is None:
            closable = versions[1].source.replace("version: 1", "version: 2", 1).replace(
                "{action: reject, label: {zh: 不予采纳, en: Reject}, from: submitted,",
                "{action: reject, label: {zh: 不予采纳, en: Reject}, from: [submitted, returned],")
            assert "from: [submitted, returned]" in closable
            version = WorkflowVersion(key="activity_review", version=2, form_key="activity_report",
                                      sha256="x" * 64, source=closable, status="published")
            db.session.add(version)
            db.session.flush()
        db.session.execute(update(Submission).where(Submission.id == sid).values(workflow_version_id=version.id))
        db.session.commit()


def _returned_on_closable_workflow(app, crew):
    sid = new_report(app, crew)
    _closable_when_returned(app, sid)
    status, body = api(app.test_client(), token_for(app, "reviewer2.a"), "POST", f"/submissions/{sid}/actions/return",
                       expected_version=2, comment="请补充活动照片")
    assert status == 200, body
    return sid


def _owner_edits(client, plain, sid, version, fix):
    return [api(client, plain, "PATCH", f"/submissions/{sid}", expected_version=version, answers=fix)]


def _owner_withdraws_edits_and_resubmits(client, plain, sid, version, fix):
    answers = [api(client, plain, "POST", f"/submissions/{sid}/actions/withdraw", expected_version=version)]
    answers.append(api(client, plain, "PATCH", f"/submissions/{sid}", expected_version=version + 1, answers=fix))
    answers.append(api(client, plain, "POST", f"/submissions/{sid}/actions/submit", expected_version=version + 2))
    return answers


# (how the item gets there, the reviewer's decision, the owner's change, the state both leave it in,
#  the trail after the owner's change, who the conflict names: an edit is no transition, so the answer
#  names the last one recorded)
RACES = {
    "edit-while-returned": (_returned_on_closable_workflow, ("reject", "逾期未改，不予采纳"), _owner_edits,
                            "returned", ["submit", "return"], "Reviewer2.A"),
    "withdraw-edit-resubmit": (lambda app, crew: new_report(app, crew), ("approve", "同意"),
                               _owner_withdraws_edits_and_resubmits, "submitted", ["submit", "withdraw", "submit"],
                               "Filler.A1"),
}


@pytest.mark.parametrize("race", list(RACES))
def test_a_decision_held_while_the_owner_changes_the_item_is_a_conflict(app, crew, race):
    """The worst interleaving, made certain: the reviewer's request has read version v and is about to write
    when the owner's change (same state, new version) commits. The reviewer must lose."""
    prepare, (action, comment), owner_change, state, owner_trail, named = RACES[race]
    sid = prepare(app, crew)
    _, seen, _ = trail(app, sid)
    reviewer, owner = token_for(app, "reviewer.a"), token_for(app, "filler.a1")
    fix = the_fix(app, crew)
    with app.app_context():
        engine = db.engine
    reached, release = threading.Event(), threading.Event()
    decision, change = [], []
    held = []

    def hold(conn, cursor, statement, parameters, context, executemany):
        # Only the reviewer's thread, only its first write to the submission row, and only once.
        if threading.get_ident() in held and not reached.is_set() and \
                re.match(r"\s*UPDATE submission\b", statement, re.I):
            reached.set()
            release.wait(WAIT)

    def decide():
        held.append(threading.get_ident())
        try:
            decision.append(api(app.test_client(), reviewer, "POST", f"/submissions/{sid}/actions/{action}",
                                expected_version=seen, comment=comment))
        finally:
            reached.set()

    def edit():
        change.extend(owner_change(app.test_client(), owner, sid, seen, fix))

    reviewer_thread, owner_thread = threading.Thread(target=decide), threading.Thread(target=edit)
    event.listen(engine, "before_cursor_execute", hold)
    try:
        reviewer_thread.start()
        assert reached.wait(WAIT), "the reviewer's request never came to write"
        assert not decision, f"the reviewer was answered before writing anything: {decision}"
        owner_thread.start()
        owner_thread.join(WAIT)  # the owner's change goes through while the reviewer waits
    finally:
        release.set()
        reviewer_thread.join(WAIT)
        event.remove(engine, "before_cursor_execute", hold)
    if owner_thread.ident is not None:
        owner_thread.join(WAIT)

    owner_won = all(status == 200 for status, _ in change)
    reviewer_won = decision[0][0] == 200
    assert owner_won != reviewer_won, (change, decision)  # exactly one wins
    assert owner_won, (change, decision)  # the owner's change committed first
    status, body = decision[0]
    final_state, final_version, actions = trail(app, sid)
    assert (final_state, actions) == (state, owner_trail)
    assert final_version == change[-1][1]["row_version"] > seen
    assert status == 409 and body["decided_by"] == named, body
    assert (body["state"], body["row_version"]) == (state, final_version)  # what the reviewer should reload


def test_an_edit_and_a_decision_started_together_have_one_winner(app, crew):
    """No interleaving forced: twenty rounds of the owner's edit and the reviewer's decision released at once."""
    reviewer, owner = token_for(app, "reviewer.a"), token_for(app, "filler.a1")
    for _ in range(20):
        sid = _returned_on_closable_workflow(app, crew)
        _, seen, _ = trail(app, sid)
        fix = the_fix(app, crew)
        barrier = threading.Barrier(2)
        answers = {}

        def send(who, plain, method, path, **body):
            client = app.test_client()
            barrier.wait(WAIT)
            answers[who] = api(client, plain, method, path, **body)

        threads = [threading.Thread(target=send, args=("reviewer", reviewer, "POST",
                                                        f"/submissions/{sid}/actions/reject"),
                                    kwargs={"expected_version": seen, "comment": "逾期未改，不予采纳"}),
                   threading.Thread(target=send, args=("owner", owner, "PATCH", f"/submissions/{sid}"),
                                    kwargs={"expected_version": seen, "answers": fix})]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
        statuses = sorted(status for status, _ in answers.values())
        assert statuses == [200, 409], answers
        state, version, actions = trail(app, sid)
        assert version == seen + 1
        if answers["reviewer"][0] == 200:
            assert (state, actions) == ("rejected", ["submit", "return", "reject"])
        else:
            assert (state, actions) == ("returned", ["submit", "return"])


# --- the audit trail: every tamper is found ----------------------------------------------------------------

def _event(sid, seq):
    return db.session.execute(select(AuditEvent).where(AuditEvent.submission_id == sid, AuditEvent.seq == seq)) \
        .scalar_one()


def _set_middle(**values):
    """Change columns of the middle event (2 of 3: the approval) in SQL; a value may be f(ctx, event)."""
    def tamper(ctx):
        middle = _event(ctx["sid"], 2)
        resolved = {k: v(ctx, middle) if callable(v) else v for k, v in values.items()}
        db.session.execute(update(AuditEvent).where(AuditEvent.id == middle.id).values(**resolved))
    return tamper


def _swap_seq(ctx):
    second, third = _event(ctx["sid"], 2).id, _event(ctx["sid"], 3).id
    for event_id, seq in ((second, 99), (third, 2), (second, 3)):  # through 99: (submission, seq) is unique
        db.session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(seq=seq))


def _delete_middle(ctx):
    db.session.execute(delete(AuditEvent).where(AuditEvent.submission_id == ctx["sid"], AuditEvent.seq == 2))


def _relink_last(ctx):
    db.session.execute(update(AuditEvent).where(AuditEvent.submission_id == ctx["sid"], AuditEvent.seq == 3)
                       .values(prev_hash="ab" * 32))


def _rewrite_head(ctx):
    db.session.execute(update(Submission).where(Submission.id == ctx["sid"]).values(audit_head="cd" * 32))


def _resign_middle_alone(ctx):
    """Someone holding the key rewrites the approval's comment, signs that event anew and points the next
    event at it: only a chain, where each hash covers the one before, still shows the cut."""
    middle, last = _event(ctx["sid"], 2), _event(ctx["sid"], 3)
    middle.comment = "事后补写的意见"
    middle.hash = audit.event_hash(middle.prev_hash, middle)
    last.prev_hash = middle.hash
    db.session.flush()


TAMPERS = {
    "actor_id": _set_middle(actor_id=lambda ctx, e: ctx["intruder"]),
    "action": _set_middle(action="return"),
    "from_state": _set_middle(from_state="returned"),
    "to_state": _set_middle(to_state="returned"),
    "comment": _set_middle(comment="悄悄改过"),
    "form_version": _set_middle(form_version=lambda ctx, e: e.form_version + 1),
    "workflow_version": _set_middle(workflow_version=lambda ctx, e: e.workflow_version + 1),
    "at": _set_middle(at=lambda ctx, e: e.at + timedelta(seconds=1)),
    "seq": _set_middle(seq=7),
    "submission_id": _set_middle(submission_id=lambda ctx, e: ctx["spare"]),
    "seq-swapped": _swap_seq,
    "middle-deleted": _delete_middle,
    "prev_hash-rewritten": _relink_last,
    "audit_head-rewritten": _rewrite_head,
    "event-resigned-alone": _resign_middle_alone,
}


@pytest.fixture
def trails(app, crew):
    """A certified report (3 events: submit, approve, certify), then an approved one and a draft (no events)."""
    ids = {"sid": new_report(app, crew, state_after="certified"),
           "bystander": new_report(app, crew, state_after="approved"),
           "spare": new_report(app, crew, state_after="draft"), "intruder": crew["reviewer2"]}
    assert ids["sid"] < ids["bystander"] < ids["spare"]
    return ids


def test_an_untouched_trail_verifies(app, trails):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "ok: 5 events, every chain intact" in result.output, result.output


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_audit_verify_finds_every_tamper_and_names_the_submission(app, trails, tamper):
    with app.app_context():
        TAMPERS[tamper](trails)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert re.search(rf"\bsubmission {trails['sid']}\b", result.output), result.output
    assert f"submission {trails['bystander']}" not in result.output
