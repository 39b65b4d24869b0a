"""The audit trail: one append-only row per change, each carrying the hash of the one before.

``verify`` recomputes every chain and reports the first broken link, so a
row changed or removed behind the application's back shows.
"""
import hashlib
import json

from sqlalchemy import select, tuple_

from ..extensions import db
from ..models import AuditEvent, Submission

GENESIS = "0" * 64


def event_hash(prev_hash, event):
    payload = {
        "submission": event.submission_id, "seq": event.seq, "actor": event.actor_id, "action": event.action,
        "from": event.from_state, "to": event.to_state, "comment": event.comment or "",
        "form_version": event.form_version, "workflow_version": event.workflow_version,
        "at": event.at.isoformat(timespec="microseconds"),
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def append(submission, actor, action, from_state, to_state, comment, at):
    last = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.submission_id == submission.id)
        .order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    event = AuditEvent(submission_id=submission.id, seq=seq, actor_id=actor.id if actor else None, action=action,
                       from_state=from_state, to_state=to_state, comment=comment,
                       form_version=submission.form_version,
                       workflow_version=submission.workflow.version if submission.workflow else None,
                       at=at, prev_hash=prev)
    event.hash = event_hash(prev, event)
    db.session.add(event)
    submission.audit_head = event.hash
    return event


def history(submission_id):
    return db.session.execute(select(AuditEvent).where(AuditEvent.submission_id == submission_id)
                              .order_by(AuditEvent.seq)).scalars().all()


def verify(batch=5000):
    """Check every chain; returns (events checked, the first problem found or None)."""
    checked = 0
    after = (0, 0)
    current, prev_hash, expected = None, GENESIS, 1
    heads = {}
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
            if event_hash(prev_hash, event) != event.hash:
                return checked, f"{where}: its contents do not match its hash"
            prev_hash = event.hash
            heads[current] = prev_hash
            expected += 1
            checked += 1
        after = (rows[-1].submission_id, rows[-1].seq)
        db.session.expunge_all()
    # A chain cut short at its end still looks whole: compare with the head each submission keeps.
    for submission_id, head in db.session.execute(
            select(Submission.id, Submission.audit_head).where(Submission.audit_head.is_not(None))):
        if heads.get(submission_id) != head:
            return checked, f"submission {submission_id}: its last events are missing"
    return checked, None
