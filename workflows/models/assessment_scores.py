"""Unit scores: the scoring definitions loaded, each unit's monthly total and the lines that explain it.

A score is stored per (scoring version, unit, month): recomputing a month
under a new version of the rules leaves the old version's table as it was.
Every point has a line naming its rule and its source — a submission, the
unit's service records of the month, or a missed obligation.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .units import utcnow

POINTS = Numeric(10, 2)


class ScoringVersion(db.Model):
    __tablename__ = "scoring_version"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_scoring_version_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnitScore(db.Model):
    __tablename__ = "unit_score"
    __table_args__ = (UniqueConstraint("scoring_version_id", "month", "unit_id", name="uq_unit_score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scoring_version_id: Mapped[int] = mapped_column(db.ForeignKey("scoring_version.id"))
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    points: Mapped[Decimal] = mapped_column(POINTS)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoreLine(db.Model):
    """One rule's points for one source; keyed like its UnitScore so a month is written in bulk."""
    __tablename__ = "score_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    scoring_version_id: Mapped[int] = mapped_column(db.ForeignKey("scoring_version.id"))
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"))
    month: Mapped[str] = mapped_column(String(7))
    position: Mapped[int] = mapped_column()
    rule_key: Mapped[str] = mapped_column(String(64))
    points: Mapped[Decimal] = mapped_column(POINTS)
    # submission (source_id: its id), records (the unit's certified hours in the month), obligation (source_ref)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column()
    source_ref: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(200))


db.Index("ix_score_line_version_unit_month", ScoreLine.scoring_version_id, ScoreLine.unit_id, ScoreLine.month)
