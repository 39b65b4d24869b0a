"""Corrections, never deletions: a request, the organiser's amendment or refusal, a revocation.

Each operation writes the record's next version (who, when, why), moves
the volunteer's counters by what the change makes, and appends an event to
the source report's audit chain — all in one transaction, committed here.
The volunteer's unit asks (谁组织谁记录: it cannot change the record
itself); only a certifier at the organising unit, or an office above it,
amends, refuses or revokes.
"""
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from ..access import has_role_at
from ..engine import audit
from ..engine.perform import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import Role, ServiceRecord, Submission, Unit, Volunteer, VolunteerMembership
from ..review.notifications import notification, responsible_ids
from ..models.units import utcnow
from .certification import _hours, _plain
from .ledger import DAY_LIMIT, hours_on, new_version

ASKING_ROLES = (Role.FILLER.value, Role.CERTIFIER.value)


def _lock(record_key, expected_version=None):
    """The report, then the record's current version, locked in that order (the certify transition's order)."""
    first = db.session.execute(select(ServiceRecord.submission_id, ServiceRecord.volunteer_id).where(
        ServiceRecord.record_key == record_key).limit(1)).first()
    if first is None:
        raise NotFound(_("No such service record."))
    submission = db.session.execute(select(Submission).where(Submission.id == first.submission_id)
                                    .with_for_update().execution_options(populate_existing=True)).scalar_one()
    db.session.execute(select(Volunteer.id).where(Volunteer.id == first.volunteer_id).with_for_update())
    current = db.session.execute(select(ServiceRecord).where(
        ServiceRecord.record_key == record_key, ServiceRecord.is_current.is_(True))
        .with_for_update().execution_options(populate_existing=True)).scalar_one()
    if expected_version is not None and expected_version != current.version:
        raise Conflict(_("This record changed since you opened it (now version %(version)d).",
                         version=current.version), version=current.version)
    return submission, current


def _reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Please give a reason."), field="reason")
    return reason


def _require_certifier(actor, record):
    if not has_role_at(actor, Role.CERTIFIER.value, record.organising_unit):
        raise Forbidden(_("Only a certifier of the organising unit may change this record."))


def _record_event(submission, actor, action, record, reason, now):
    volunteer = db.session.get(Volunteer, record.volunteer_id)
    note = _("%(name)s (%(number)s), version %(version)d: %(reason)s", name=volunteer.name,
             number=volunteer.number or volunteer.id_masked[-4:], version=record.version, reason=reason)
    audit.append(submission, actor, action, submission.state, submission.state, note, now)


def _tell(user_ids, submission, record, kind, reason, **params):
    """Notifications of ``kind`` about one record's correction, each read in its reader's language."""
    params = dict(params, name=record.volunteer.name, activity=record.activity_name, reason=reason)
    for user_id in sorted(set(user_ids)):
        db.session.add(notification(user_id, kind, params, submission_id=submission.id))


def _finish(submission, actor, action, record, reason, commit):
    _record_event(submission, actor, action, record, reason, utcnow())
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return record


def _rollback_on_refusal(operation):
    def run(*args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except Exception:
            db.session.rollback()
            raise
    run.__name__, run.__doc__ = operation.__name__, operation.__doc__
    return run


@_rollback_on_refusal
def request_correction(record_key, actor, unit_id, reason, hours=None, expected_version=None, commit=True):
    """The volunteer's unit ``unit_id`` asks the organiser to correct the record (optionally to ``hours``)."""
    reason = _reason(reason)
    submission, current = _lock(record_key, expected_version)
    unit = db.session.get(Unit, unit_id) if unit_id else None
    member = unit is not None and db.session.execute(select(VolunteerMembership.id).where(
        VolunteerMembership.volunteer_id == current.volunteer_id, VolunteerMembership.unit_id == unit.id)).first()
    if not member or not any(has_role_at(actor, role, unit) for role in ASKING_ROLES):
        raise Forbidden(_("Only a unit the volunteer serves with may ask for a correction."))
    if current.status != "active":
        raise Invalid(_("A revoked record cannot be corrected."))
    if current.correction_open:
        raise Conflict(_("A correction of this record is already waiting for the organiser."))
    wanted = None
    if hours not in (None, ""):
        wanted = _hours(hours)
        if wanted is None or not Decimal("0") < wanted <= DAY_LIMIT:
            raise Invalid(_("The hours must be a number above 0 and at most 24."), field="hours")
    record = new_version(current, actor, "request", reason, correction_open=True, requested_hours=wanted,
                         requested_by_unit_id=unit.id)
    certifiers = [i for i in responsible_ids(submission, [Role.CERTIFIER.value]) if i != actor.id]
    _tell(certifiers, submission, record, "record_correction", reason, unit=unit.name,
          held_on=record.held_on.isoformat())
    return _finish(submission, actor, "record_request", record, reason, commit)


@_rollback_on_refusal
def amend(record_key, actor, hours, reason, expected_version=None, commit=True):
    """The organiser verifies a requested correction and sets the hours; the totals follow."""
    reason = _reason(reason)
    submission, current = _lock(record_key, expected_version)
    _require_certifier(actor, current)
    if not current.correction_open:
        raise Invalid(_("There is no correction request to answer on this record."))
    new_hours = _hours(hours)
    if new_hours is None or not Decimal("0") < new_hours <= DAY_LIMIT:
        raise Invalid(_("The hours must be a number above 0 and at most 24."), field="hours")
    others = hours_on([current.volunteer_id], current.held_on, leaving_out=current.id).get(current.volunteer_id,
                                                                                          Decimal("0"))
    if others + new_hours > DAY_LIMIT:
        raise Invalid(_("%(hours)s hours here and %(before)s certified elsewhere on %(day)s make more than 24 "
                        "hours in one day.", hours=_plain(new_hours), before=_plain(others),
                        day=current.held_on.isoformat()), field="hours")
    record = new_version(current, actor, "amend", reason, hours=new_hours, correction_open=False)
    _tell([current.changed_by_id], submission, record, "record_amended", reason, hours=_plain(new_hours))
    return _finish(submission, actor, "record_amend", record, reason, commit)


@_rollback_on_refusal
def refuse_correction(record_key, actor, reason, expected_version=None, commit=True):
    """The organiser verifies a requested correction and keeps the record as it is."""
    reason = _reason(reason)
    submission, current = _lock(record_key, expected_version)
    _require_certifier(actor, current)
    if not current.correction_open:
        raise Invalid(_("There is no correction request to answer on this record."))
    record = new_version(current, actor, "refuse", reason, correction_open=False)
    _tell([current.changed_by_id], submission, record, "record_correction_refused", reason)
    return _finish(submission, actor, "record_refuse", record, reason, commit)


@_rollback_on_refusal
def revoke(record_key, actor, reason, expected_version=None, commit=True):
    """The organiser withdraws the certification: the record stays, revoked, and counts no more."""
    reason = _reason(reason)
    submission, current = _lock(record_key, expected_version)
    _require_certifier(actor, current)
    if current.status == "revoked":
        raise Conflict(_("This record is already revoked."))
    record = new_version(current, actor, "revoke", reason, status="revoked", correction_open=False)
    return _finish(submission, actor, "record_revoke", record, reason, commit)


def history(record_key):
    """Every version of a record, oldest first."""
    return db.session.execute(select(ServiceRecord).where(ServiceRecord.record_key == record_key)
                              .order_by(ServiceRecord.version)).scalars().all()
