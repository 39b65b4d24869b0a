"""Every unit's tallies of a range of months, kept in the process and brought up to date from the audit trail.

The compliance table for the whole city reads ~24,000 submissions and their audit events; grouping
them takes a few hundred milliseconds on PostgreSQL. The tallies change only when a submission moves
(an audit event is appended: the trail is append-only) — the rules refuse met or pending states in
which a submission can be edited, so its month cannot change without an event. So the grouped counts
are kept per (database, rules checksum, months) with the newest event they saw, and a later call
recomputes only the units whose submissions have events after it. Events are numbered before their
transaction commits, so a slower transaction can commit an event below the newest one seen: the
catch-up re-reads the units of the last ``MARGIN`` events as well.

A different database lineage (the newest event seen is gone or has another hash: a restore, a test's
fresh tables) starts over.
"""
import threading
from collections import OrderedDict

from sqlalchemy import select

from ...extensions import db
from ...models import AuditEvent, Submission
from .evaluation_sql import grouped_counts

MARGIN = 500
KEEP = 16
_lock = threading.Lock()
_entries = OrderedDict()


def _head():
    return db.session.execute(select(AuditEvent.id, AuditEvent.hash)
                              .order_by(AuditEvent.id.desc()).limit(1)).first()


def counts(rules, months):
    """{(unit_id, form_key, period): (met, on_time, pending)} for every unit."""
    key = (str(db.engine.url), rules.sha256, tuple(str(m) for m in months))
    head = _head()
    if head is None:
        return grouped_counts(rules, months)
    head = (head[0], head[1])
    with _lock:
        entry = _entries.get(key)
    if entry is not None and entry[0] == head:
        return entry[1]
    tallies = None
    if entry is not None and entry[0][0] <= head[0]:
        seen_id, seen_hash = entry[0]
        still = db.session.execute(select(AuditEvent.hash).where(AuditEvent.id == seen_id)).scalar()
        if still == seen_hash:
            touched = set(db.session.execute(
                select(Submission.unit_id).join(AuditEvent, AuditEvent.submission_id == Submission.id)
                .where(AuditEvent.id > seen_id - MARGIN).distinct()).scalars())
            tallies = {k: v for k, v in entry[1].items() if k[0] not in touched}
            if touched:
                tallies.update(grouped_counts(rules, months, unit_ids=sorted(touched)))
    if tallies is None:
        tallies = grouped_counts(rules, months)
    with _lock:
        _entries[key] = (head, tallies)
        _entries.move_to_end(key)
        while len(_entries) > KEEP:
            _entries.popitem(last=False)
    return tallies


def current_object(rules, months):
    """The tallies dict last kept for these rules and months (None): lets callers cache what they build on it."""
    key = (str(db.engine.url), rules.sha256, tuple(str(m) for m in months))
    with _lock:
        entry = _entries.get(key)
    return entry[1] if entry is not None else None


def forget():
    with _lock:
        _entries.clear()
