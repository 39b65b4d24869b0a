"""The facts scores are made of, gathered for a set of months in a few grouped queries.

Which reports count, and in which month: an activity report counts for the
month of its activity (``Submission.period``, copied from ``held_on``) once
it has passed review (``COUNTED_REPORT_STATES``); a nomination counts for
the month it was nominated for (its ``month`` answer) once selected for the
monthly ten. Certified hours are the current, active service records the
unit organised, by the activity's date. Obligations come from the
obligations part (missed and late cells).
"""
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from ..extensions import db
from ..models import ServiceRecord, Submission

REPORT_FORM = "activity_report"
NOMINATION_FORM = "exemplar_nomination"
COUNTED_REPORT_STATES = ("approved", "certified", "archived", "published")
NOT_A_FESTIVAL = (None, "", "other")


@dataclass
class UnitFacts:
    reports: list = field(default_factory=list)       # (submission id, campaign, photos)
    hours: Decimal = Decimal("0")
    top_ten: list = field(default_factory=list)       # submission ids
    missed: list = field(default_factory=list)        # obligation keys
    late: list = field(default_factory=list)          # (obligation key, submission ids)


def gather(months, unit_ids, obligation_cells):
    """{(month text, unit id): UnitFacts} for every ``unit_ids`` × ``months``.

    ``obligation_cells(months, unit_ids)`` gives the obligations' cells of all the months at once
    ({(unit id, obligation key, "YYYY-MM"): cell with .status and .sources}).
    """
    units = set(unit_ids)
    texts = [str(m) for m in months]
    facts = defaultdict(UnitFacts)
    # The photos as counted on save: the answers (rosters, long texts) are never read for a number.
    reports = db.session.execute(
        select(Submission.id, Submission.unit_id, Submission.period, Submission.campaign, Submission.image_count)
        .where(Submission.form_key == REPORT_FORM, Submission.period.in_(texts),
               Submission.state.in_(COUNTED_REPORT_STATES))
        .order_by(Submission.id))
    for sid, unit_id, period, campaign, count in reports:
        if unit_id in units:
            facts[(period, unit_id)].reports.append((sid, campaign, int(count)))
    first, last = min(months).first, max(months).last
    # Grouped by the plain date, which the leaderboard's covering index already orders; a function
    # of the date would cost a computation and a sort per record (a year is a million of them).
    hours = db.session.execute(
        select(ServiceRecord.organising_unit_id, ServiceRecord.held_on, func.sum(ServiceRecord.hours))
        .where(ServiceRecord.is_current.is_(True), ServiceRecord.status == "active",
               ServiceRecord.held_on >= first, ServiceRecord.held_on <= last)
        .group_by(ServiceRecord.organising_unit_id, ServiceRecord.held_on))
    wanted = set(texts)
    for unit_id, day, total in hours:
        month = f"{day.year:04d}-{day.month:02d}"
        if unit_id in units and month in wanted:
            unit_facts = facts[(month, unit_id)]
            unit_facts.hours += Decimal(total or 0)
    nominated_for = Submission.answers["month"].as_string()
    selected = db.session.execute(
        select(Submission.id, Submission.unit_id, nominated_for)
        .where(Submission.form_key == NOMINATION_FORM, Submission.state == "selected", nominated_for.in_(texts))
        .order_by(Submission.id))
    for sid, unit_id, month in selected:
        if unit_id in units:
            facts[(month, unit_id)].top_ten.append(sid)
    for (unit_id, key, month), cell in sorted(obligation_cells(list(months), sorted(units)).items()):
        if cell.status == "missing":
            facts[(month, unit_id)].missed.append(key)
        elif cell.status == "late":
            facts[(month, unit_id)].late.append((key, list(cell.sources)))
    return facts
