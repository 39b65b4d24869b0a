"""Monthly obligations (issue 10): the loaded rule versions and the reminders already sent."""
from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .units import utcnow


class ObligationRuleVersion(db.Model):
    """One loaded version of the obligation rules (YAML); the newest one is in force.

    Kept like form and workflow versions: a (key, version) never changes once loaded, and every
    computed result names the version and checksum it was computed under.
    """
    __tablename__ = "obligation_rule_version"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_obligation_rule_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    loaded_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ObligationReminder(db.Model):
    """A reminder sent to a unit's fillers for one obligation of one month: at most one, ever."""
    __tablename__ = "obligation_reminder"
    __table_args__ = (UniqueConstraint("unit_id", "obligation", "period", name="uq_obligation_reminder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"))
    obligation: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    rule_version: Mapped[int] = mapped_column()
    recipients: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
