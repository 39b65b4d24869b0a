"""Scores: every participating unit's points for a month, explained line by line, stored per rule version.

``recompute(months, scoring)`` reads the facts (``score_facts``), applies
each rule in the definition's order and replaces that version's stored
table for those months — the same facts give the same table, and another
version's table is left alone. ``year_table`` sums a year for the dynamic
assessment: rank, points, and the yellow card below ``warning_below``.
"""
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

from sqlalchemy import delete, func, insert, select

from ..extensions import db
from ..jobs import job_kind
from ..models import ScoreLine, ScoringVersion, Unit, UnitScore
from ..models.units import utcnow
from .periods import Month, months_of
from .score_facts import NOT_A_FESTIVAL, gather
from .scoring_rules import load_scoring

BUILTIN = Path(__file__).parent.parent / "definitions" / "assessment" / "unit_scores.yaml"


def _no_obligations(months, unit_ids):
    return {}


_obligations = {"cells": _no_obligations}


def install_obligations(cells):
    """The obligations part gives ``evaluate_many``: (months, unit ids) → {(unit id, key, "YYYY-MM"): cell}."""
    _obligations["cells"] = cells


def store_version(scoring):
    """The ScoringVersion row of ``scoring`` (added when new; the same key and version must not change)."""
    row = db.session.execute(select(ScoringVersion).where(ScoringVersion.key == scoring.key,
                                                          ScoringVersion.version == scoring.version)).scalar_one_or_none()
    if row is None:
        row = ScoringVersion(key=scoring.key, version=scoring.version, sha256=scoring.sha256, source=scoring.source)
        db.session.add(row)
        db.session.flush()
    elif row.sha256 != scoring.sha256:
        raise ValueError(f"{scoring.key} v{scoring.version} is stored with other rules; give the change a new version")
    return row


def current_version():
    """The newest stored scoring version, the built-in one stored on first use."""
    row = db.session.execute(select(ScoringVersion).order_by(ScoringVersion.version.desc())).scalars().first()
    if row is None:
        row = store_version(load_scoring(BUILTIN.read_text(encoding="utf-8")))
    return row


def participating_units(scoring):
    return db.session.execute(select(Unit.id).where(Unit.active.is_(True),
                                                    Unit.kind.in_(scoring.schema.unit_kinds))
                              .order_by(Unit.id)).scalars().all()


@dataclass
class Line:
    rule_key: str
    points: Decimal
    source_kind: str
    source_id: int | None = None
    source_ref: str | None = None
    detail: str | None = None


def lines_for(scoring, facts):
    """The lines one unit's facts earn for one month, in the definition's rule order."""
    out = []
    for rule in scoring.rules:
        if rule.fact == "approved_report":
            for sid, _campaign, _photos in facts.reports[:rule.max_per_month]:
                out.append(Line(rule.key, rule.points, "submission", sid))
        elif rule.fact == "festival_report":
            for sid, campaign, photos in facts.reports:
                if campaign not in NOT_A_FESTIVAL and photos >= (rule.min_photos or 0):
                    out.append(Line(rule.key, rule.points, "submission", sid, detail=f"{photos}"))
        elif rule.fact == "certified_hours":
            blocks = (facts.hours / rule.per_hours).to_integral_value(rounding=ROUND_FLOOR)
            if blocks:
                out.append(Line(rule.key, rule.points * blocks, "records", detail=f"{facts.hours}"))
        elif rule.fact == "top_ten":
            out.extend(Line(rule.key, rule.points, "submission", sid) for sid in facts.top_ten)
        elif rule.fact == "missed_obligation":
            out.extend(Line(rule.key, rule.points, "obligation", source_ref=key) for key in facts.missed)
        elif rule.fact == "late_obligation":
            for key, sources in facts.late:
                out.append(Line(rule.key, rule.points, "obligation", source_id=min(sources) if sources else None,
                                source_ref=key))
    return out


def recompute(months, scoring=None):
    """Recompute and store ``months`` under ``scoring`` (default: the current version); returns rows written."""
    if scoring is None:
        row = current_version()
        scoring = load_scoring(row.source)
    else:
        row = store_version(scoring)
    units = participating_units(scoring)
    facts = gather(months, units, _obligations["cells"])
    texts = [str(m) for m in months]
    db.session.execute(delete(ScoreLine).where(ScoreLine.scoring_version_id == row.id, ScoreLine.month.in_(texts)))
    db.session.execute(delete(UnitScore).where(UnitScore.scoring_version_id == row.id, UnitScore.month.in_(texts)))
    now = utcnow()
    scores, lines = [], []
    for month in texts:
        for unit_id in units:
            earned = lines_for(scoring, facts[(month, unit_id)]) if (month, unit_id) in facts else []
            scores.append({"scoring_version_id": row.id, "unit_id": unit_id, "month": month,
                           "points": sum((line.points for line in earned), Decimal("0")), "computed_at": now})
            lines.extend({"scoring_version_id": row.id, "unit_id": unit_id, "month": month, "position": index,
                          "rule_key": line.rule_key, "points": line.points, "source_kind": line.source_kind,
                          "source_id": line.source_id, "source_ref": line.source_ref, "detail": line.detail}
                         for index, line in enumerate(earned))
    _bulk(UnitScore.__table__, scores)
    _bulk(ScoreLine.__table__, lines)
    return {"scores": len(scores), "lines": len(lines), "version": row.version}


def _bulk(table, rows):
    """Write ``rows`` into ``table`` in the session's transaction: COPY on PostgreSQL (a year is ~20,000
    rows; row-by-row INSERTs would take most of the recompute), executemany elsewhere."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def recompute_year(year, scoring=None):
    return recompute(months_of(year), scoring)


@dataclass
class Standing:
    rank: int
    unit_id: int
    points: Decimal
    warned: bool


def year_table(year, version_row, unit_ids=None):
    """Every unit's points for ``year`` under ``version_row``, best first (ties: lower unit id first)."""
    scoring = load_scoring(version_row.source)
    total = func.sum(UnitScore.points).label("total")
    stmt = (select(UnitScore.unit_id, total).where(UnitScore.scoring_version_id == version_row.id,
                                                   UnitScore.month.like(f"{year:04d}-%"))
            .group_by(UnitScore.unit_id).order_by(total.desc(), UnitScore.unit_id))
    if unit_ids is not None:
        stmt = stmt.where(UnitScore.unit_id.in_(list(unit_ids)))
    rows = db.session.execute(stmt).all()
    threshold = scoring.schema.warning_below
    table, rank, previous = [], 0, None
    for index, (unit_id, points) in enumerate(rows):
        points = Decimal(points)
        if points != previous:  # equal points share a rank (1, 2, 2, 4)
            rank, previous = index + 1, points
        table.append(Standing(rank, unit_id, points, points < threshold))
    return table


@job_kind("recompute_scores", retries=1, timeout=600)
def recompute_recent(ctx, today=None):
    """The periodic refresh: last month's and this month's scores, from the facts as they stand now.

    Older months change only when someone recomputes them (a new rules
    version, a late correction), so a closed year's table stays put.
    """
    this = Month.of(today or utcnow().date())
    written = recompute([this.previous(), this])
    db.session.commit()
    return written
