"""Performing a transition: one database transaction, compare-and-swap on the submission's version.

``perform`` checks that the action is open from the current state to this
person at this submission's unit, its ``when``, ``not_self`` and comment
rule; then either records a vote (approval blocks) or moves the submission
with ``UPDATE … WHERE row_version = :seen``, appends the audit event, runs
the effects and commits. Of two people acting at once exactly one wins; the
other is told who decided what. An effect may refuse by raising an
ActionError: the whole transaction is rolled back before the refusal
reaches the caller. ``params`` reach the effects untouched.

An idempotency key is claimed before any work: its row is inserted first,
so a concurrent duplicate blocks on the unique (user, key) until the first
transaction ends, then replays the committed answer. A claim is never
committed without its answer: any refusal rolls the claim back with the rest.

A vote never takes the failure path on an approving decision: when the
remaining voters can no longer reach the quorum, the submission waits and
the answer says how many votes are missing.
"""
import time
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..access import can_view, has_role_at
from ..extensions import db
from ..models import AuditEvent, IdempotencyRecord, RoleGrant, Submission, Unit, User, Vote
from ..models.units import utcnow
from . import audit, deadlines, effects, stored_answers
from .versions import form_spec_of, workflow_of

BUSY_RETRIES = 8
SUBMISSION = Submission.__table__


class ActionError(Exception):
    status = 422

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self):
        return {"error": type(self).__name__, "message": self.message, **self.details}


class NotFound(ActionError):
    status = 404


class Forbidden(ActionError):
    status = 403


class Invalid(ActionError):
    status = 422


class Conflict(ActionError):
    status = 409


@dataclass
class Result:
    status: int
    body: dict
    replayed: bool = False
    # The submission as the transition left it (None on a replay): callers read it without asking again.
    submission: object = None


def may_act(actor, transition, submission):
    by = transition.model.by
    if by == "owner":
        return submission.created_by_id == actor.id
    return has_role_at(actor, by, submission.unit)


def actions_for(actor, submission, workflow=None):
    """The transitions ``actor`` could perform now (the page shows these as buttons)."""
    workflow = workflow or workflow_of(submission)
    if workflow is None:
        return []
    out = []
    for transition in workflow.available(submission.state):
        if transition.model.internal or not may_act(actor, transition, submission):
            continue
        if transition.model.not_self and submission.created_by_id == actor.id:
            continue
        approval = transition.model.approval
        if approval and approval.mode != "any" and _has_voted(submission, actor):
            continue
        out.append(transition)
    return out


def _has_voted(submission, actor):
    return db.session.execute(select(Vote.id).where(
        Vote.submission_id == submission.id, Vote.round == submission.row_version,
        Vote.voter_id == actor.id)).first() is not None


def perform(submission_id, action, actor, comment=None, expected_version=None, idempotency_key=None,
            decision="approve", commit=True, params=None, internal=False):
    """Perform ``action`` on submission ``submission_id`` as ``actor``; returns a Result or raises ActionError.

    ``params`` is a dict the engine does not read: it is handed to the
    transition's effects as ``EffectContext.params`` (e.g. a certifier's
    decisions on each roster row). An effect that refuses it raises an
    ActionError, and the whole transition is rolled back.

    ``internal=True`` is for the procedure that owns an ``internal``
    transition (the monthly ballot's confirmation): only then may one be
    performed; from the pages and the API it is refused.
    """
    for attempt in range(BUSY_RETRIES):
        try:
            return _perform(submission_id, action, actor, (comment or "").strip() or None, expected_version,
                            idempotency_key, decision, commit, params or {}, internal)
        except ActionError:
            if idempotency_key:
                db.session.rollback()  # the claim goes with the refusal: a retry may succeed
            raise
        except OperationalError as exc:
            # SQLite answers "database is locked" instead of waiting when two
            # writers meet; start again: the retry sees the winner's change.
            db.session.rollback()
            if "locked" not in str(exc).lower() or attempt == BUSY_RETRIES - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
        except IntegrityError:
            # The same idempotency key, or the same vote, raced and lost: answer as the winner did.
            db.session.rollback()
            if idempotency_key:
                replay = _replay(actor, idempotency_key, submission_id, action)
                if replay:
                    return replay
            raise Conflict(_("This was already decided a moment ago.")) from None


def _replay(actor, key, submission_id, action):
    record = db.session.execute(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == actor.id, IdempotencyRecord.key == key)).scalar_one_or_none()
    if record is None:
        return None
    if record.submission_id != submission_id or record.action != action:
        raise Invalid(_("This idempotency key was already used for another request."))
    if not record.status:
        # Only a claim whose transaction is still open looks like this; it is never committed so.
        raise Conflict(_("The same request is still being processed; try again in a moment."))
    return Result(record.status, record.body, replayed=True)


def _claim(actor, key, submission_id, action):
    """Insert the key's row before the work; a concurrent duplicate waits here, then fails on the unique key."""
    if db.session.get(Submission, submission_id) is None:
        raise NotFound(_("No such submission."))
    claim = IdempotencyRecord(user_id=actor.id, key=key, submission_id=submission_id, action=action, status=0,
                              body={})
    db.session.add(claim)
    db.session.flush()
    return claim


def _perform(submission_id, action, actor, comment, expected_version, key, decision, commit, params, internal=False):
    claim = None
    if key:
        replay = _replay(actor, key, submission_id, action)
        if replay:
            return replay
        claim = _claim(actor, key, submission_id, action)
    submission = db.session.execute(select(Submission).where(Submission.id == submission_id)
                                    .options(joinedload(Submission.unit))
                                    .execution_options(populate_existing=True)).scalar_one_or_none()
    if submission is None or not can_view(actor, submission):
        raise NotFound(_("No such submission."))
    workflow = workflow_of(submission)
    if workflow is None:
        raise Invalid(_("This submission follows no workflow."))
    if expected_version is not None and expected_version != submission.row_version:
        raise conflict(submission)
    transition = workflow.find(submission.state, action)
    if transition is None:
        if any(t.action == action for t in workflow.transitions):
            raise conflict(submission) if expected_version is not None else Invalid(
                _("“%(action)s” is not possible while the submission is “%(state)s”.",
                  action=action_label(workflow, action),
                  state=workflow.state(submission.state).label.get(_lang())))
        raise NotFound(_("Unknown action “%(action)s”.", action=action))
    if transition.model.internal and not internal:
        raise Forbidden(_("“%(action)s” is not done by hand: it follows from its own procedure (such as the "
                          "monthly ballot).", action=transition.label(_lang())))
    if not may_act(actor, transition, submission):
        raise Forbidden(_("Your roles do not allow “%(action)s” here.", action=transition.label(_lang())))
    if transition.model.not_self and submission.created_by_id == actor.id:
        raise Forbidden(_("You cannot decide on your own submission."))
    if transition.model.comment == "required" and not comment:
        raise Invalid(_("Please give a comment: it is required for “%(action)s”.", action=transition.label(_lang())),
                      field="comment")
    form_spec = form_spec_of(submission)
    if _leaves_editing(workflow, submission.state, transition):
        _require_complete(form_spec, submission)
    if not workflow.when_holds(transition, form_spec, submission.answers):
        raise Invalid(_("The conditions for “%(action)s” are not met by this submission.",
                        action=transition.label(_lang())))
    approval = transition.model.approval
    if approval is not None and approval.mode != "any":
        result = _vote(submission, workflow, transition, actor, comment, decision, params)
    else:
        result = _fire(submission, workflow, transition, actor, comment, params)
    if claim is not None:
        claim.status, claim.body = result.status, result.body
    result.submission = submission
    if commit:
        _commit_keeping_loaded()
    return result


def _commit_keeping_loaded():
    """Commit without expiring what the session holds.

    The transition told the submission what its UPDATE wrote (set_committed_value) and added the rest as new
    rows, so the person, the submission and its unit are still what the database holds: reading them all
    again after the commit — on the redirect, or for the next item of a bulk approve — would only cost.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def _leaves_editing(workflow, state, transition):
    return workflow.state(state).edit is not None and workflow.state(transition.model.to).edit is None


def _require_complete(form_spec, submission):
    """A draft leaves its owner's hands only complete, whichever door it leaves by."""
    from forms.answers import validate
    outcome = validate(form_spec, stored_answers.read(form_spec, submission.answers), language=_lang(), strict=True)
    if not outcome.ok:
        raise Invalid(_("The form is not complete: open it, correct the marked fields and submit again."),
                      errors=outcome.errors)


def action_label(workflow, action):
    """An action's name as people read it: the label of a transition that bears it."""
    transition = next((t for t in workflow.transitions if t.action == action), None)
    return transition.label(_lang()) if transition else action


def _lang():
    from flask_babel import get_locale
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def conflict(submission, workflow=None):
    db.session.rollback()
    last = db.session.execute(select(AuditEvent).where(AuditEvent.submission_id == submission.id)
                              .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one_or_none()
    current = db.session.get(Submission, submission.id)
    if last is None:
        return Conflict(_("This submission changed since you opened it."), state=current.state,
                        row_version=current.row_version)
    name = last.actor.display_name if last.actor else _("the system")
    workflow = workflow or workflow_of(current)
    done = workflow.find(last.from_state, last.action) if workflow and last.from_state else None
    label = done.label(_lang()) if done else last.action
    return Conflict(_("Already decided by %(name)s: “%(action)s” at %(time)s.", name=name, action=label,
                      time=last.at.strftime("%Y-%m-%d %H:%M")),
                    decided_by=name, action=last.action, state=current.state, row_version=current.row_version)


def _fire(submission, workflow, transition, actor, comment, params=None):
    from_state = submission.state
    to_state = transition.model.to
    now = utcnow()
    target = workflow.state(to_state)
    duration = transition.model.due or target.due
    values = {"state": to_state, "row_version": SUBMISSION.c.row_version + 1, "state_since": now,
              "due_at": deadlines.due_at(now, duration) if duration else None, "updated_at": now}
    if transition.action == "submit":
        values["submitted_at"] = now
    # The event is hashed first, so the compare-and-swap also moves the trail's head: one UPDATE.
    event = audit.prepare(submission, actor, transition.action, from_state, to_state, comment, now)
    values["audit_head"] = event.hash
    # Plain (Core) statements on the table: the ORM's bulk-update path and the unit of work would cost more
    # than the statements themselves, and the object learns what they wrote below.
    moved = db.session.execute(
        update(SUBMISSION).where(SUBMISSION.c.id == submission.id, SUBMISSION.c.row_version == submission.row_version,
                                 SUBMISSION.c.state == from_state)
        .values(**values))
    if moved.rowcount != 1:
        raise conflict(submission)
    audit.write(event)
    # The row now holds what the UPDATE wrote; the object learns it without reading the row back.
    values["row_version"] = submission.row_version + 1
    for name, value in values.items():
        set_committed_value(submission, name, value)
    context = effects.EffectContext(submission=submission, transition=transition, actor=actor,
                                    from_state=from_state, workflow=workflow, form_spec=form_spec_of(submission),
                                    params=params or {})
    try:
        for name in transition.model.effects:
            effects.run(name, context)
        db.session.flush()
    except ActionError:
        # An effect refused (e.g. hours that cannot be certified): the move, the
        # audit event and whatever the effects wrote go back together.
        db.session.rollback()
        raise
    return Result(200, {"submission": submission.id, "action": transition.action, "from": from_state,
                        "to": to_state, "row_version": submission.row_version, "event": event.seq,
                        "decided": True})


def eligible_voters(submission, transition):
    """Active people who hold the transition's role at the submission's unit or above it."""
    stmt = (select(func.count(func.distinct(RoleGrant.user_id)))
            .join(User, User.id == RoleGrant.user_id)
            .join(Unit, Unit.id == RoleGrant.unit_id)
            .where(RoleGrant.role == transition.model.by, User.active.is_(True), Unit.active.is_(True),
                   RoleGrant.unit_id.in_(submission.unit.ancestor_ids())))
    if transition.model.not_self:
        stmt = stmt.where(RoleGrant.user_id != submission.created_by_id)
    return db.session.execute(stmt).scalar()


def _vote(submission, workflow, transition, actor, comment, decision, params=None):
    if decision not in ("approve", "reject"):
        raise Invalid(_("A vote is approve or reject."), field="decision")
    if decision == "reject" and not comment:
        raise Invalid(_("Please give a comment: it is required to vote against."), field="comment")
    round_ = submission.row_version
    # Voters queue up on the submission's row, so each counts the votes before it.
    locked = db.session.execute(select(Submission.row_version).where(Submission.id == submission.id)
                                .with_for_update()).scalar()
    if locked != round_:
        raise conflict(submission)
    if _has_voted(submission, actor):
        raise Conflict(_("You have already voted on this submission."))
    db.session.add(Vote(submission_id=submission.id, action=transition.action, round=round_, voter_id=actor.id,
                        decision=decision, comment=comment))
    db.session.flush()
    decisions = db.session.execute(select(Vote.decision).where(
        Vote.submission_id == submission.id, Vote.round == round_)).scalars().all()
    approvals = decisions.count("approve")
    rejections = decisions.count("reject")
    eligible = eligible_voters(submission, transition)
    approval = transition.model.approval
    needed = eligible if approval.mode == "all" else approval.n
    outcome = None
    if approvals >= needed:
        outcome = "approve"
    elif decision == "reject" and (approval.veto or eligible - rejections < needed):
        # Only a vote against takes the failure path: by veto, or by leaving the quorum out of reach.
        outcome = "fail"
    if outcome == "approve":
        return _fire(submission, workflow, transition, actor, comment, params)
    if outcome == "fail":
        refusal = workflow.find(submission.state, approval.on_fail)
        return _fire(submission, workflow, refusal, actor, comment)
    # Still open: the vote is on the record, the state does not move.
    audit.append(submission, actor, f"vote_{decision}", submission.state, submission.state, comment, utcnow())
    db.session.flush()
    return Result(200, {"submission": submission.id, "action": transition.action, "from": submission.state,
                        "to": submission.state, "row_version": submission.row_version, "decided": False,
                        "votes": tally(approvals, rejections, needed, eligible)})


def tally(approvals, rejections, needed, eligible):
    """The count of a vote still open; ``missing`` approvals, of which ``unreachable`` no eligible voter can give."""
    missing = max(needed - approvals, 0)
    can_still = max(eligible - approvals - rejections, 0)
    return {"approve": approvals, "reject": rejections, "needed": needed, "missing": missing,
            "eligible": eligible, "unreachable": max(missing - can_still, 0)}


def open_vote(submission, workflow=None):
    """The tally of the vote under way on ``submission`` (for its page), or None."""
    workflow = workflow or workflow_of(submission)
    if workflow is None:
        return None
    transition = next((t for t in workflow.available(submission.state)
                       if t.model.approval and t.model.approval.mode != "any"), None)
    if transition is None:
        return None
    decisions = db.session.execute(select(Vote.decision).where(
        Vote.submission_id == submission.id, Vote.round == submission.row_version)).scalars().all()
    eligible = eligible_voters(submission, transition)
    approval = transition.model.approval
    needed = eligible if approval.mode == "all" else approval.n
    return dict(tally(decisions.count("approve"), decisions.count("reject"), needed, eligible),
                action=transition.action, label=transition.label(_lang()))
