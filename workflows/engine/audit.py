"""The audit trail: one append-only row per change, each carrying the keyed hash of the one before.

The hashes are HMAC-SHA256 under ``AUDIT_KEY``, which lives outside the
database: someone who can write SQL can change a row, but cannot recompute
a chain (or a submission's ``audit_head``) that ``verify`` accepts. A
submission's state is where its trail ends, so ``verify`` also compares
each state with its last event's ``to``.
"""
import hashlib
import hmac
import json

from flask import current_app
from sqlalchemy import insert, select, tuple_

from ..extensions import db
from ..models import AuditEvent, Submission
from .versions import workflow_version_number

GENESIS = "0" * 64


def audit_key():
    return current_app.config["AUDIT_KEY"].encode("utf-8")


def _canonical(event):
    payload = {
        "submission": event.submission_id, "seq": event.seq, "actor": event.actor_id, "action": event.action,
        "from": event.from_state, "to": event.to_state, "comment": event.comment or "",
        "form_version": event.form_version, "workflow_version": event.workflow_version,
        "at": event.at.isoformat(timespec="microseconds"),
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(prev_hash, event, key=None):
    """The event's link in its chain; pass ``key`` (``audit_key()``) when hashing many."""
    message = (prev_hash + _canonical(event)).encode("utf-8")
    return hmac.new(key or audit_key(), message, hashlib.sha256).hexdigest()


def legacy_hash(prev_hash, event):
    """The unkeyed SHA-256 link of trails written before AUDIT_KEY; only ``reseal`` reads it."""
    return hashlib.sha256((prev_hash + _canonical(event)).encode("utf-8")).hexdigest()


def prepare(submission, actor, action, from_state, to_state, comment, at):
    """The next event of ``submission``'s trail, hashed and chained, not yet added to the session."""
    last = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.submission_id == submission.id)
        .order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    event = AuditEvent(submission_id=submission.id, seq=seq, actor_id=actor.id if actor else None, action=action,
                       from_state=from_state, to_state=to_state, comment=comment,
                       form_version=submission.form_version,
                       workflow_version=workflow_version_number(submission.workflow_version_id),
                       at=at, prev_hash=prev)
    event.hash = event_hash(prev, event)
    return event


_COLUMNS = [column.key for column in AuditEvent.__table__.columns if column.key != "id"]


def write(event):
    """Insert a prepared event now, as one plain INSERT.

    The engine's transitions write their event this way: it leaves the session's unit of work (and the
    autoflush its next statement would run) out of every transition, and later statements of the same
    transaction — another event of an effect, a verify — see the row at once."""
    db.session.execute(insert(AuditEvent.__table__).values({name: getattr(event, name) for name in _COLUMNS}))


def append(submission, actor, action, from_state, to_state, comment, at):
    event = prepare(submission, actor, action, from_state, to_state, comment, at)
    db.session.add(event)
    submission.audit_head = event.hash
    return event


def history(submission_id):
    return db.session.execute(select(AuditEvent).where(AuditEvent.submission_id == submission_id)
                              .order_by(AuditEvent.seq)).scalars().all()


def verify(batch=5000):
    """Check every chain, and every state against its trail; returns (events checked, the first problem or None)."""
    key = audit_key()
    checked = 0
    after = (0, 0)
    current, prev_hash, expected = None, GENESIS, 1
    ends = {}
    while True:
        rows = db.session.execute(
            select(AuditEvent).where(tuple_(AuditEvent.submission_id, AuditEvent.seq) > after)
            .order_by(AuditEvent.submission_id, AuditEvent.seq).limit(batch)).scalars().all()
        if not rows:
            break
        for event in rows:
            if event.submission_id != current:
                current, prev_hash, expected = event.submission_id, GENESIS, 1
            where = f"submission {event.submission_id}, event {event.seq} ({event.action})"
            if event.seq != expected:
                return checked, f"submission {event.submission_id}: event {expected} is missing"
            if event.prev_hash != prev_hash:
                return checked, f"{where}: does not follow event {event.seq - 1}"
            if not hmac.compare_digest(event_hash(prev_hash, event, key), event.hash):
                return checked, f"{where}: its contents do not match its hash"
            prev_hash = event.hash
            ends[current] = (prev_hash, event.to_state)
            expected += 1
            checked += 1
        after = (rows[-1].submission_id, rows[-1].seq)
        db.session.expunge_all()
    # A chain cut short at its end still looks whole: compare with the head each submission keeps,
    # and the state it is in with where its trail ends.
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Submission.id, Submission.audit_head, Submission.state).where(Submission.id > last_id)
            .order_by(Submission.id).limit(batch)).all()
        if not rows:
            break
        for submission_id, head, state in rows:
            end = ends.pop(submission_id, None)
            if end is None:
                if head is not None:
                    return checked, f"submission {submission_id}: its last events are missing"
                continue
            if head != end[0]:
                return checked, f"submission {submission_id}: its last events are missing"
            if state != end[1]:
                return checked, (f"submission {submission_id}: its state is '{state}' but its last event "
                                 f"leads to '{end[1]}'")
        last_id = rows[-1][0]
    return checked, None


def reseal(batch=500):
    """Once, after upgrading: re-chain under AUDIT_KEY the trails written with the old unkeyed SHA-256.

    All or nothing, and only while no trail is keyed yet: run again later,
    it would bless a trail someone rewrote with plain SHA-256 in between.
    Every trail must verify under the old scheme first. Returns (trails
    resealed, problems); with problems nothing is changed.
    """
    key = audit_key()
    resealed, problems = 0, []
    last_id = 0
    while True:
        ids = db.session.execute(select(Submission.id).where(Submission.id > last_id,
                                                             Submission.audit_head.is_not(None))
                                 .order_by(Submission.id).limit(batch)).scalars().all()
        if not ids:
            break
        for submission_id in ids:
            submission = db.session.get(Submission, submission_id)
            events = history(submission_id)
            if _intact(events, submission, lambda prev, e: event_hash(prev, e, key)):
                db.session.rollback()
                return 0, [f"submission {submission_id}: already keyed; reseal runs once, before any keyed trail"]
            if not _intact(events, submission, legacy_hash):
                problems.append(f"submission {submission_id}: its trail does not verify under the old hash either")
                continue
            prev = GENESIS
            for event in events:
                event.prev_hash = prev
                event.hash = prev = event_hash(prev, event, key)
            submission.audit_head = prev
            resealed += 1
        db.session.flush()
        last_id = ids[-1]
    if problems:
        db.session.rollback()
        return 0, problems
    db.session.commit()
    return resealed, problems


def _intact(events, submission, link):
    prev = GENESIS
    for expected, event in enumerate(events, start=1):
        if event.seq != expected or event.prev_hash != prev or link(prev, event) != event.hash:
            return False
        prev = event.hash
    return bool(events) and prev == submission.audit_head and events[-1].to_state == submission.state
