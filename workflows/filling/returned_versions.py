"""What a returned submission looked like when it was returned, kept for the reviewer who sees it again.

Nothing else keeps a submission's earlier answers (a snapshot is the archive's frozen copy, taken once),
and the shipped workflows have no effect on ``return`` to take one. So the filling side keeps it: the
first time the answers are saved after someone other than the filer moved the submission (a return, a
send-back), the answers as they stood — the version that person returned — are copied, once per event.
A submission resubmitted without a save has no copy, and nothing changed.
"""
import copy

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import AuditEvent, ReturnedVersion


def _last_event(submission_id):
    return db.session.execute(select(AuditEvent).where(AuditEvent.submission_id == submission_id)
                              .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one_or_none()


def keep(submission):
    """Called before a save replaces ``submission.answers``."""
    if submission is None or submission.id is None:
        return
    last = _last_event(submission.id)
    if last is None or last.from_state == last.to_state or last.actor_id == submission.created_by_id:
        return
    if db.session.execute(select(ReturnedVersion.id).where(ReturnedVersion.event_id == last.id)).first():
        return
    try:
        with db.session.begin_nested():
            db.session.add(ReturnedVersion(submission_id=submission.id, event_id=last.id,
                                           answers=copy.deepcopy(submission.answers or {}),
                                           form_version=submission.form_version))
    except IntegrityError:
        pass  # a save at the same moment kept the same version


def since_returned(submission):
    """The version kept at its last return, once the submission has moved on from it (resubmitted); else None."""
    version = db.session.execute(select(ReturnedVersion).where(ReturnedVersion.submission_id == submission.id)
                                 .order_by(ReturnedVersion.id.desc()).limit(1)).scalar_one_or_none()
    if version is None:
        return None
    last = _last_event(submission.id)
    return version if last is not None and last.id != version.event_id else None
