"""GET /scores: the units' scores for a year (and a month), each unit's points explained line by line.

Offices see the units under their grants; anyone else only the units where
they hold a role. Read from the stored table, like the score pages.
"""
from decimal import Decimal

from flask import jsonify
from sqlalchemy import select

from ..access import grant_paths
from ..assessment.periods import Month
from ..assessment.scores import current_version, year_table
from ..assessment.scoring_rules import load_scoring
from ..extensions import db
from ..models import Role, ScoreLine, Unit, UnitScore
from ..models.units import utcnow
from .blueprint import bp
from .representations import _unit
from .requests import _arg_int, _user


def _points(value):
    return float(Decimal(value))


@bp.get("/scores")
def list_scores():
    year = _arg_int("year", 1950, 2100, default=utcnow().year)
    month = _arg_int("month", 1, 12)
    unit_id = _arg_int("unit", 1, 2 ** 31 - 1)
    paths = grant_paths(_user(), *Role)
    version = current_version()
    units = {u.id: u for u in db.session.execute(select(Unit).where(Unit.in_any_subtree(paths))).scalars()} \
        if paths else {}
    if unit_id is not None:
        units = {unit_id: units[unit_id]} if unit_id in units else {}
    body = {"year": year, "month": month, "rules_version": version.version,
            "warning_below": _points(version_warning(version)), "items": []}
    if not units:
        return jsonify(body)
    monthly = {}
    lines = {}
    if month is not None:
        text = str(Month(year, month))
        monthly = dict(db.session.execute(select(UnitScore.unit_id, UnitScore.points).where(
            UnitScore.scoring_version_id == version.id, UnitScore.month == text,
            UnitScore.unit_id.in_(list(units)))).all())
        if unit_id is not None:
            lines[unit_id] = [{"rule": l.rule_key, "points": _points(l.points), "source": l.source_kind,
                               "submission": l.source_id, "obligation": l.source_ref}
                              for l in db.session.execute(select(ScoreLine).where(
                                  ScoreLine.scoring_version_id == version.id, ScoreLine.month == text,
                                  ScoreLine.unit_id == unit_id).order_by(ScoreLine.position)).scalars()]
    for standing in year_table(year, version, unit_ids=units):
        item = {"unit": _unit(units[standing.unit_id]), "rank": standing.rank,
                "points_year": _points(standing.points), "warned": standing.warned}
        if month is not None:
            item["points_month"] = _points(monthly.get(standing.unit_id, 0))
        if standing.unit_id in lines:
            item["lines"] = lines[standing.unit_id]
        body["items"].append(item)
    return jsonify(body)


def version_warning(version):
    return load_scoring(version.source).schema.warning_below
