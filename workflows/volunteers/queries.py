"""Who may see which volunteers, and the queries the pages, the API and the export share.

Nothing here decrypts an ID number: searches by the last digits use the
stored mask, and answers carry only ``last_four``.
"""
import re

from flask import current_app
from sqlalchemy import and_, func, select

from ..access import VIEW_ROLES, grant_paths
from ..extensions import db
from ..models import ServiceRecord, Unit, Volunteer, VolunteerMembership, VolunteerYearTotal

DIGITS = re.compile(r"^\d{0,3}[\dXx]$")


def visible_paths(user):
    """The unit paths under which ``user`` sees volunteers (any viewing role)."""
    return grant_paths(user, *VIEW_ROLES)


def within(unit, paths):
    return any(unit.path.startswith(p) for p in paths)


def star_bounds(level):
    thresholds = [float(t) for t in current_app.config["STAR_THRESHOLDS"]]
    if not 0 <= level <= len(thresholds):
        return None
    low = thresholds[level - 1] if level else None
    high = thresholds[level] if level < len(thresholds) else None
    return low, high


def search(paths, year, q=None, star=None, after=None, limit=50):
    """[(Volunteer, hours this year or None)] serving in ``paths``, by id after ``after``; one more than
    ``limit`` when there is a next page. ``q`` is part of a name or the last 1–4 digits of the ID number."""
    in_scope = (select(VolunteerMembership.volunteer_id).join(Unit, Unit.id == VolunteerMembership.unit_id)
                .where(Unit.in_any_subtree(paths)))
    stmt = (select(Volunteer, VolunteerYearTotal.hours)
            .outerjoin(VolunteerYearTotal, and_(VolunteerYearTotal.volunteer_id == Volunteer.id,
                                                VolunteerYearTotal.year == year))
            .where(Volunteer.id.in_(in_scope)).order_by(Volunteer.id).limit(limit + 1))
    if q:
        if DIGITS.match(q):  # the last digits of the ID number, matched on the stored mask
            stmt = stmt.where(Volunteer.id_masked.endswith(q.upper(), autoescape=True))
        else:
            stmt = stmt.where(Volunteer.name.contains(q, autoescape=True))
    bounds = star_bounds(star) if star is not None else None
    if bounds:
        low, high = bounds
        if low is not None:
            stmt = stmt.where(Volunteer.hours_total >= low)
        if high is not None:
            stmt = stmt.where(Volunteer.hours_total < high)
    if after:
        stmt = stmt.where(Volunteer.id > after)
    return db.session.execute(stmt).all()


def visible_volunteer(user, number):
    """(volunteer, paths) when ``user`` holds a role where they serve or at an organiser of their current
    records; None otherwise (whether or not the number exists)."""
    paths = visible_paths(user)
    volunteer = db.session.execute(select(Volunteer).where(Volunteer.number == number)).scalar_one_or_none()
    if volunteer is None or not paths:
        return None
    serves = db.session.execute(select(func.count()).select_from(VolunteerMembership).join(
        Unit, Unit.id == VolunteerMembership.unit_id).where(
        VolunteerMembership.volunteer_id == volunteer.id, Unit.in_any_subtree(paths))).scalar()
    organised = serves or db.session.execute(select(func.count()).select_from(ServiceRecord).join(
        Unit, Unit.id == ServiceRecord.organising_unit_id).where(
        ServiceRecord.volunteer_id == volunteer.id, ServiceRecord.is_current.is_(True),
        Unit.in_any_subtree(paths))).scalar()
    if not serves and not organised:
        return None
    return volunteer, paths


def current_records(volunteer):
    """The volunteer's current service records, newest activity first."""
    return db.session.execute(select(ServiceRecord).where(
        ServiceRecord.volunteer_id == volunteer.id, ServiceRecord.is_current.is_(True))
        .order_by(ServiceRecord.held_on.desc(), ServiceRecord.id.desc())).scalars().all()


def year_total(volunteer, year):
    return db.session.execute(select(VolunteerYearTotal).where(
        VolunteerYearTotal.volunteer_id == volunteer.id, VolunteerYearTotal.year == year)).scalar_one_or_none()
