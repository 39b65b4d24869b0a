"""A year's campaigns (节点): generated from the calendar, then edited or added to by the city office."""
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .units import utcnow


class Campaign(db.Model):
    __tablename__ = "campaign"
    __table_args__ = (
        UniqueConstraint("year", "key", name="uq_campaign_year_key"),
        CheckConstraint("window_start <= node_on AND node_on <= window_end", name="window_holds_node"),
        CheckConstraint("source IN ('generated', 'office')", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    key: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    node_on: Mapped[date] = mapped_column()
    window_start: Mapped[date] = mapped_column(index=True)
    window_end: Mapped[date] = mapped_column(index=True)
    theme: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list] = mapped_column(JSON, default=list)
    unit_kinds: Mapped[list] = mapped_column(JSON, default=list)
    forms: Mapped[list] = mapped_column(JSON, default=list)
    lead_unit_ids: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(16), default="generated")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))

    def name(self, language="zh"):
        return self.name_en if language == "en" and self.name_en else self.name_zh

    def is_open_on(self, day):
        return self.window_start <= day <= self.window_end
