"""The facts a circular is drafted from, gathered by the application for one office and one month.

Everything here is plain JSON (names, numbers, ids), because it is frozen into the circular as its
snapshot: the templates read only this, never the database, so a document under review changes
only when someone refreshes its facts. Units are those of the office's subtree that the monthly
obligations apply to; a unit's district is its ancestor just below the city.
"""
import hashlib
import json
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from ...assessment import scores
from ...assessment.obligations import evaluation, rules as obligation_rules
from ...assessment.periods import Month
from ...assessment.score_facts import COUNTED_REPORT_STATES, NOMINATION_FORM, REPORT_FORM
from ...extensions import db
from ...models import ServiceRecord, Submission, Unit, UnitKind, UnitScore
from ...models.units import utcnow

# The reports a monthly circular covers: archived ones move to 已通报 when it is signed.
COVERED_STATE = "archived"
EXEMPLARY = 10


def digest(facts):
    return hashlib.sha256(json.dumps(facts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _decimal(value):
    value = Decimal(value or 0).normalize()
    return format(value, "f")


def gather(office, period, now=None):
    """The facts of ``period`` ("YYYY-MM") for ``office``'s subtree."""
    month = Month.parse(period)
    rules = obligation_rules.current()
    units = db.session.execute(select(Unit.id, Unit.kind, Unit.name, Unit.code, Unit.path).where(
        Unit.active.is_(True), Unit.in_subtree(office.path), Unit.kind.in_(rules.schema.unit_kinds))
        .order_by(Unit.path)).all()
    districts = {d.id: d for d in db.session.execute(select(Unit).where(
        Unit.depth == 1, Unit.kind == UnitKind.OFFICE.value)).scalars()}
    ids = [u.id for u in units]
    grid = evaluation.evaluate_grid([month], [(u.id, u.kind) for u in units], now=now or utcnow(), rules=rules,
                                    with_sources=False)
    reports = _reports(period, ids)
    hours = _hours(month, set(ids))
    points = _points(period, set(ids))
    obligations = [{"key": o.key, "label": o.label.zh} for o in rules.obligations]
    rows, by_district = [], {}
    for unit in units:
        district = _district(unit.path, districts)
        cells = grid.cells.get(unit.id, {})
        status = {o["key"]: cells[(o["key"], period)].status for o in obligations if (o["key"], period) in cells}
        row = {"id": unit.id, "code": unit.code, "name": unit.name, "district": district,
               "reports": len(reports.get(unit.id, ())), "hours": _decimal(hours.get(unit.id)),
               "points": points.get(unit.id), "status": status}
        rows.append(row)
        tally = by_district.setdefault(district, {"name": district, "units": 0, "active": 0, "reports": 0,
                                                  "met": defaultdict(int), "owed": defaultdict(int)})
        tally["units"] += 1
        tally["active"] += 1 if row["reports"] else 0
        tally["reports"] += row["reports"]
        for key, value in status.items():
            tally["owed"][key] += 1
            tally["met"][key] += 1 if value == "met" else 0
    district_rows = []
    for tally in by_district.values():
        shares = {key: round(100 * tally["met"][key] / owed, 1) for key, owed in tally["owed"].items() if owed}
        district_rows.append({"name": tally["name"], "units": tally["units"], "active": tally["active"],
                              "participation": round(100 * tally["active"] / tally["units"], 1),
                              "reports": tally["reports"], "met": shares})
    missed = [{"id": r["id"], "name": r["name"], "district": r["district"],
               "obligations": [o["label"] for o in obligations if r["status"].get(o["key"]) == "missing"]}
              for r in rows]
    missed = [m for m in missed if m["obligations"]]
    met_all = [r["name"] for r in rows if r["status"] and all(v == "met" for v in r["status"].values())]
    covered = sorted(sid for sids in reports.values() for sid, state, _title in sids if state == COVERED_STATE)
    return {
        "period": period, "year": month.year, "month": month.month,
        "office": {"id": office.id, "name": office.name},
        "obligations": obligations, "districts": district_rows, "units": rows, "missed": missed,
        "met_all": met_all, "exemplary": _exemplary(period, ids), "top_ten": _top_ten(period, ids),
        "totals": {"units": len(rows), "reports": sum(r["reports"] for r in rows),
                   "hours": _decimal(sum((hours.get(i, Decimal(0)) for i in ids), Decimal(0))),
                   "missed": len(missed)},
        "covered": covered,
    }


def _district(path, districts):
    parts = [int(p) for p in path.strip("/").split("/") if p]
    district = districts.get(parts[1]) if len(parts) > 1 else None
    return district.name if district else ""


def _reports(period, ids):
    out = defaultdict(list)
    wanted = set(ids)
    for sid, unit_id, state, title in db.session.execute(
            select(Submission.id, Submission.unit_id, Submission.state, Submission.title)
            .where(Submission.form_key == REPORT_FORM, Submission.period == period,
                   Submission.state.in_(COUNTED_REPORT_STATES)).order_by(Submission.id)):
        if unit_id in wanted:
            out[unit_id].append((sid, state, title))
    return out


def _hours(month, wanted):
    out = defaultdict(Decimal)
    for unit_id, total in db.session.execute(
            select(ServiceRecord.organising_unit_id, func.sum(ServiceRecord.hours))
            .where(ServiceRecord.is_current.is_(True), ServiceRecord.status == "active",
                   ServiceRecord.held_on >= month.first, ServiceRecord.held_on <= month.last)
            .group_by(ServiceRecord.organising_unit_id)):
        if unit_id in wanted:
            out[unit_id] += Decimal(total or 0)
    return out


def _points(period, wanted):
    """The stored scores of the month under the current scoring version (None where none is stored)."""
    version = scores.current_version()
    return {unit_id: _decimal(points) for unit_id, points in db.session.execute(
        select(UnitScore.unit_id, UnitScore.points).where(UnitScore.scoring_version_id == version.id,
                                                          UnitScore.month == period)) if unit_id in wanted}


def _exemplary(period, ids):
    """The month's reports with the most photos (then the oldest): the circular's examples."""
    wanted = set(ids)
    rows = db.session.execute(
        select(Submission.id, Submission.unit_id, Submission.title, Submission.campaign, Unit.name)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.form_key == REPORT_FORM, Submission.period == period,
               Submission.state.in_(COUNTED_REPORT_STATES))
        .order_by(Submission.image_count.desc(), Submission.id)).all()
    return [{"id": sid, "title": title or "", "unit": name, "campaign": campaign or ""}
            for sid, unit_id, title, campaign, name in rows if unit_id in wanted][:EXEMPLARY]


def _top_ten(period, ids):
    """The month's nominations selected for the monthly ten."""
    wanted = set(ids)
    rows = db.session.execute(
        select(Submission.id, Submission.unit_id, Submission.title, Unit.name, Unit.path)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.form_key == NOMINATION_FORM, Submission.period == period,
               Submission.state == "selected").order_by(Submission.id)).all()
    districts = {d.id: d for d in db.session.execute(select(Unit).where(
        Unit.depth == 1, Unit.kind == UnitKind.OFFICE.value)).scalars()}
    return [{"id": sid, "title": title or "", "unit": name, "unit_id": unit_id, "district": _district(path, districts)}
            for sid, unit_id, title, name, path in rows if unit_id in wanted]


def changes(old, new):
    """What a refresh changed, as lines a person reads: totals, units whose figures moved, lists."""
    out = []
    for key, label in (("units", "units"), ("reports", "reports"), ("hours", "hours"), ("missed", "missed")):
        before, after = old.get("totals", {}).get(key), new.get("totals", {}).get(key)
        if before != after:
            out.append(("total", label, before, after))
    before = {u["id"]: u for u in old.get("units", [])}
    for unit in new.get("units", []):
        was = before.pop(unit["id"], None)
        if was is None:
            out.append(("unit_added", unit["name"], None, None))
            continue
        for key in ("reports", "hours", "points", "status"):
            if was.get(key) != unit.get(key):
                out.append(("unit", unit["name"], key, (was.get(key), unit.get(key))))
    for gone in before.values():
        out.append(("unit_removed", gone["name"], None, None))
    for key in ("top_ten", "exemplary", "covered"):
        if old.get(key) != new.get(key):
            out.append(("list", key, None, None))
    return out
