"""The hours ledger: service records as versions, and the counters that follow them.

A record is never changed in place: ``new_version`` retires the current row
of a lineage and adds the next one, in one transaction, and ``count`` moves
the volunteer's all-time and yearly counters by the difference the change
makes. Totals are therefore read, never summed. Only an active record
counts: it adds its hours and one person-time to the year of its activity.
"""
from decimal import Decimal

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import ServiceRecord, Volunteer, VolunteerYearTotal
from ..models.units import utcnow
from .registry import insert_ignore

DAY_LIMIT = Decimal("24")

COPIED = ("record_key", "volunteer_id", "submission_id", "form_version_id", "form_version", "roster_row",
          "activity_name", "held_on", "place", "beneficiaries", "content", "person_in_charge", "recorder",
          "reported_hours", "hours", "organising_unit_id", "certifier_id", "certified_at", "status",
          "correction_open", "requested_hours", "requested_by_unit_id")


def weight(record):
    """What a record adds to the counters: (hours, person-times)."""
    if record.status != "active":
        return Decimal("0"), 0
    return Decimal(record.hours), 1


def count(volunteer_id, year, hours, person_times):
    """Move one volunteer's counters, all-time and for ``year``, by the given differences."""
    if not hours and not person_times:
        return
    db.session.execute(update(Volunteer).where(Volunteer.id == volunteer_id).values(
        hours_total=Volunteer.hours_total + hours, person_times=Volunteer.person_times + person_times)
        .execution_options(synchronize_session=False))
    insert_ignore(VolunteerYearTotal, {"volunteer_id": volunteer_id, "year": year, "hours": Decimal("0"),
                                       "person_times": 0}, ["volunteer_id", "year"])
    db.session.execute(update(VolunteerYearTotal).where(
        VolunteerYearTotal.volunteer_id == volunteer_id, VolunteerYearTotal.year == year).values(
        hours=VolunteerYearTotal.hours + hours, person_times=VolunteerYearTotal.person_times + person_times)
        .execution_options(synchronize_session=False))


def add_first(record):
    """A new lineage: version 1, counted."""
    db.session.add(record)
    hours, times = weight(record)
    count(record.volunteer_id, record.held_on.year, hours, times)


def new_version(current, actor, change, reason, **values):
    """Retire ``current`` and add the next version with ``values`` changed; the counters follow."""
    before = weight(current)
    db.session.execute(update(ServiceRecord).where(ServiceRecord.id == current.id, ServiceRecord.is_current.is_(True))
                       .values(is_current=False).execution_options(synchronize_session=False))
    db.session.flush()
    data = {name: getattr(current, name) for name in COPIED}
    data.update(values)
    record = ServiceRecord(**data, version=current.version + 1, is_current=True, change=change, reason=reason,
                           changed_by_id=actor.id, changed_at=utcnow())
    db.session.add(record)
    db.session.flush()
    after = weight(record)
    count(record.volunteer_id, record.held_on.year, after[0] - before[0], after[1] - before[1])
    return record


def hours_on(volunteer_ids, day, leaving_out=None):
    """{volunteer id: certified hours on ``day``} over current active records (``leaving_out``: a record id)."""
    stmt = (select(ServiceRecord.volunteer_id, func.sum(ServiceRecord.hours))
            .where(ServiceRecord.volunteer_id.in_(list(volunteer_ids)), ServiceRecord.held_on == day,
                   ServiceRecord.is_current.is_(True), ServiceRecord.status == "active")
            .group_by(ServiceRecord.volunteer_id))
    if leaving_out is not None:
        stmt = stmt.where(ServiceRecord.id != leaving_out)
    return {vid: Decimal(total or 0) for vid, total in db.session.execute(stmt)}
