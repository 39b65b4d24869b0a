"""Certification (认证): the organiser's certifier turns an approved report's roster into the hours ledger.

``certify_service_hours`` runs inside the ``certify`` transition's own
transaction: the state change, the records, the counters and the new
volunteers commit together or not at all. Any refusal — a row whose ID
number no longer validates, one person twice in the activity or already
certified for it, more than 24 hours in one day for one person across all
activities — raises ``Invalid`` before the commit, so nothing is written.

The certifier's decisions come as ``perform(…, params={"rows": {index:
decision}})``: each roster row (by its 0-based index) is ``confirm``-ed (the
default), ``correct``-ed to other ``hours`` with a ``reason``, or
``exclude``-d with a ``reason``.
"""
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from ..engine import audit
from ..engine.effects import effect
from ..engine.perform import Invalid
from ..extensions import db
from ..models import ServiceRecord
from ..models.units import utcnow
from .ledger import DAY_LIMIT, add_first, hours_on
from .registry import Person, ensure_people, valid_number

DECISIONS = ("confirm", "correct", "exclude")
ROSTER = "roster"


@dataclass
class RowDecision:
    decision: str = "confirm"
    hours: Decimal | None = None
    reason: str | None = None


def _hours(value):
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return hours if hours.is_finite() else None


def row_decisions(params, rows):
    """The certifier's decision for each roster row; refuses what cannot be applied, naming the row."""
    given = (params or {}).get("rows") or {}
    if isinstance(given, list):
        given = dict(enumerate(given))
    if not isinstance(given, dict):
        raise Invalid(_("The decisions on the roster rows cannot be read."), field="rows")
    decisions = [RowDecision() for _row in rows]
    for key, raw in given.items():
        try:
            index = int(key)
        except (TypeError, ValueError):
            index = -1
        if not 0 <= index < len(rows):
            raise Invalid(_("There is no roster row %(row)s.", row=key), field="rows")
        where = f"{ROSTER}[{index}]"
        raw = raw if isinstance(raw, dict) else {"decision": raw}
        decision = raw.get("decision") or "confirm"
        reason = (raw.get("reason") or "").strip() or None
        if decision not in DECISIONS:
            raise Invalid(_("Row %(row)d: choose confirm, correct or exclude.", row=index + 1),
                          field=f"{where}.decision")
        if decision == "confirm":
            decisions[index] = RowDecision()
            continue
        if reason is None:
            raise Invalid(_("Row %(row)d: please give the reason for correcting or excluding it.", row=index + 1),
                          field=f"{where}.reason")
        hours = None
        if decision == "correct":
            hours = _hours(raw.get("hours"))
            if hours is None or not Decimal("0") < hours <= DAY_LIMIT or hours != hours.quantize(Decimal("0.1")):
                raise Invalid(_("Row %(row)d: the corrected hours must be a number above 0 and at most 24, "
                                "with at most one decimal.", row=index + 1), field=f"{where}.hours")
        decisions[index] = RowDecision(decision, hours, reason)
    return decisions


@effect("certify_service_hours")
def certify_service_hours(context):
    """One service record per volunteer of the roster, with the hours the certifier confirmed."""
    submission = context.submission
    answers = submission.answers or {}
    rows = answers.get(ROSTER) or []
    decisions = row_decisions(context.params, rows)
    try:
        held_on = date.fromisoformat(str(answers.get("held_on")))
    except ValueError:
        raise Invalid(_("The report has no valid activity date."), field="held_on") from None

    kept = []  # (index, row, person, hours, decision)
    seen = {}
    for index, (row, decision) in enumerate(zip(rows, decisions)):
        if decision.decision == "exclude":
            continue
        name = (row.get("name") or "").strip()
        number = valid_number(row.get("id_number"))
        if number is None:
            raise Invalid(_("Row %(row)d (%(name)s): the ID number does not validate; exclude the row or have "
                            "the report corrected.", row=index + 1, name=name),
                          field=f"{ROSTER}[{index}].id_number")
        reported = _hours(row.get("hours"))
        hours = decision.hours if decision.decision == "correct" else reported
        if hours is None or hours <= 0:
            raise Invalid(_("Row %(row)d (%(name)s): the hours are missing; correct or exclude the row.",
                            row=index + 1, name=name), field=f"{ROSTER}[{index}].hours")
        person = Person(number=number, name=name, phone=row.get("phone"))
        if person.id_hash in seen:
            raise Invalid(_("Rows %(first)d and %(row)d are the same person: nobody is certified twice for one "
                            "activity.", first=seen[person.id_hash] + 1, row=index + 1),
                          field=f"{ROSTER}[{index}].id_number")
        seen[person.id_hash] = index
        kept.append((index, row, person, reported if reported is not None else hours, hours, decision))
    if not kept:
        raise Invalid(_("Every row is excluded: there is nothing to certify."), field="rows")

    volunteers = ensure_people([k[2] for k in kept], submission.unit, submission)
    ids = {h: v.id for h, (v, _created) in volunteers.items()}
    already = set(db.session.execute(select(ServiceRecord.volunteer_id).where(
        ServiceRecord.submission_id == submission.id, ServiceRecord.volunteer_id.in_(list(ids.values())),
        ServiceRecord.is_current.is_(True))).scalars())
    that_day = hours_on(ids.values(), held_on)
    for index, row, person, _reported, hours, _decision in kept:
        volunteer_id = ids[person.id_hash]
        name = person.name
        if volunteer_id in already:
            raise Invalid(_("Row %(row)d (%(name)s) is already certified for this activity.", row=index + 1,
                            name=name), field=f"{ROSTER}[{index}].id_number")
        if that_day.get(volunteer_id, Decimal("0")) + hours > DAY_LIMIT:
            raise Invalid(_("Row %(row)d (%(name)s): %(hours)s hours here and %(before)s already certified on "
                            "%(day)s make more than 24 hours in one day.", row=index + 1, name=name,
                            hours=_plain(hours), before=_plain(that_day[volunteer_id]), day=held_on.isoformat()),
                          field=f"{ROSTER}[{index}].hours")

    now = utcnow()
    for index, row, person, reported, hours, decision in kept:
        corrected = decision.decision == "correct"
        add_first(ServiceRecord(
            record_key=uuid.uuid4().hex, version=1, is_current=True, volunteer_id=ids[person.id_hash],
            submission_id=submission.id, form_version_id=submission.form_version_id,
            form_version=submission.form_version, roster_row=index,
            activity_name=(answers.get("title") or submission.title or "")[:200], held_on=held_on,
            place=answers.get("place"), beneficiaries=answers.get("beneficiaries"), content=answers.get("content"),
            person_in_charge=answers.get("person_in_charge"), recorder=answers.get("recorder"),
            reported_hours=reported, hours=hours, organising_unit_id=submission.unit_id,
            certifier_id=context.actor.id, certified_at=now, status="active",
            change="correct" if corrected else "certify", reason=decision.reason if corrected else None,
            correction_open=False, changed_by_id=context.actor.id, changed_at=now))
    changed = [(i, d) for i, d in enumerate(decisions) if d.decision != "confirm"]
    if changed:
        # What the certifier changed in the roster goes on the report's chain (names, never ID numbers).
        lines = [_row_note(i, rows[i], d) for i, d in changed]
        audit.append(submission, context.actor, "certify_rows", submission.state, submission.state,
                     "\n".join(lines), now)
    db.session.flush()


def _plain(hours):
    return format(Decimal(hours).normalize(), "f")


def _row_note(index, row, decision):
    name = (row.get("name") or "").strip()
    if decision.decision == "exclude":
        return _("Row %(row)d (%(name)s) excluded: %(reason)s", row=index + 1, name=name, reason=decision.reason)
    return _("Row %(row)d (%(name)s) corrected from %(before)s to %(after)s hours: %(reason)s", row=index + 1,
             name=name, before=_plain(_hours(row.get("hours")) or 0), after=_plain(decision.hours),
             reason=decision.reason)
