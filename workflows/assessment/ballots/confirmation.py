"""Confirming a closed ballot: every item decided in ONE database transaction.

The ballot moves ``closed`` → ``confirmed`` first, by compare-and-swap on
its ``row_version``; on PostgreSQL a second confirmation waits on that row
and then finds it confirmed, so of two at once exactly one goes on. Then
each item's submission goes through the engine's ``perform`` (with
``internal=True``: ``select`` / ``not_select`` are internal transitions of
exemplar_review v2), which moves it by compare-and-swap on its own
``row_version`` and appends one audit event to its chain, with the place and
points as the comment. Any refusal — a submission that left ``nominated``
meanwhile, a stale page — rolls everything back: nothing is half-confirmed.
"""
import time

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ...engine.perform import ActionError, Conflict, Forbidden, perform
from ...extensions import db
from ...models import Ballot, Submission
from ...models.units import utcnow
from .ballot import NOT_SELECT, SELECT, _moved, close_if_due, may_manage
from .results import result

BUSY_RETRIES = 8


def confirm(ballot_id, actor, expected_version):
    """Confirm ballot ``ballot_id`` as ``actor`` (office at its unit); returns the Result, or raises ActionError."""
    for attempt in range(BUSY_RETRIES):
        try:
            return _confirm(ballot_id, actor, expected_version)
        except OperationalError as exc:
            # SQLite answers "database is locked" when two writers meet; the retry sees the winner.
            db.session.rollback()
            if "locked" not in str(exc).lower() or attempt == BUSY_RETRIES - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


def _already(ballot):
    db.session.rollback()
    current = db.session.get(Ballot, ballot.id)
    db.session.refresh(current)
    if current.status == "confirmed":
        who = current.confirmed_by.display_name if current.confirmed_by else _("the system")
        return Conflict(_("Already confirmed by %(name)s at %(time)s: nothing was changed.", name=who,
                          time=current.confirmed_at.strftime("%Y-%m-%d %H:%M")), status="confirmed",
                        row_version=current.row_version)
    if current.status != "closed":
        return Conflict(_("This ballot is not closed yet: it can be confirmed once every member has voted or "
                          "the deadline has passed."), status=current.status, row_version=current.row_version)
    return Conflict(_("This ballot changed since you opened it; look again before confirming."),
                    status=current.status, row_version=current.row_version)


def _confirm(ballot_id, actor, expected_version):
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        from ...engine.perform import NotFound
        raise NotFound(_("No such ballot."))
    if not may_manage(actor, ballot.unit):
        raise Forbidden(_("Only the office at %(unit)s confirms a ballot.", unit=ballot.unit.name))
    close_if_due(ballot)
    now = utcnow()
    if not _moved(ballot, expected_version, "closed", status="confirmed", confirmed_by_id=actor.id,
                  confirmed_at=now):
        raise _already(ballot)
    outcome = result(ballot)
    versions = dict(db.session.execute(select(Submission.id, Submission.row_version).where(
        Submission.id.in_([r.submission_id for r in outcome.rows]))).all())
    try:
        for row in outcome.rows:
            comment = _("Monthly ballot %(month)s: place %(place)d, %(points)d points.", month=ballot.month,
                        place=row.place, points=row.points)
            perform(row.submission_id, SELECT if row.selected else NOT_SELECT, actor, comment=comment,
                    expected_version=versions.get(row.submission_id), commit=False, internal=True)
    except ActionError as refused:
        db.session.rollback()
        raise Conflict(_("Nothing was confirmed: nomination #%(id)d could not be decided (%(reason)s).",
                         id=row.submission_id, reason=refused.message)) from None
    db.session.commit()
    return outcome
