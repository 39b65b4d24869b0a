"""Circulars (通报): the document around a circular's submission, its number, what it covers, who opened it.

A circular's prose and its workflow live on a Submission of the ``circular`` form (the engine's
audit chain, row versions and transitions); this row holds what only a circular has — its kind and
period, the facts snapshot it was drafted from, its 文号 and its rendered PDF.
"""
from datetime import date, datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .forms import Submission
from .units import Unit, utcnow


class CircularOffice(db.Model):
    """An issuing office's document-number prefix (发文机关代字), e.g. 阜文明办."""
    __tablename__ = "circular_office"

    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32))


class CircularSequence(db.Model):
    """One counter per issuing office and year, incremented inside the signing transaction: its row lock
    makes concurrent signings wait their turn, and a rolled-back signing gives its number back."""
    __tablename__ = "circular_sequence"

    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)


class Circular(db.Model):
    __tablename__ = "circular"
    __table_args__ = (UniqueConstraint("office_unit_id", "number_year", "sequence", name="uq_circular_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(db.ForeignKey("submission.id"), unique=True)
    office_unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))
    # The facts it was drafted from, frozen: later changes to the data reach it only by "refresh".
    facts: Mapped[dict] = mapped_column(JSON, default=dict)
    facts_sha256: Mapped[str] = mapped_column(String(64))
    facts_taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    number_year: Mapped[int | None] = mapped_column()
    sequence: Mapped[int | None] = mapped_column()
    doc_number: Mapped[str | None] = mapped_column(String(64))
    signed_on: Mapped[date | None] = mapped_column()
    signed_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
    # Public once signed; listed on /notices/ once its PDF exists too.
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    pdf_name: Mapped[str | None] = mapped_column(String(80))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_pages: Mapped[int | None] = mapped_column()
    rendered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship()
    office: Mapped[Unit] = relationship()


class CircularReport(db.Model):
    """An activity report a circular covers: signing moves it from 已归档 to 已通报."""
    __tablename__ = "circular_report"

    circular_id: Mapped[int] = mapped_column(db.ForeignKey("circular.id"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(db.ForeignKey("submission.id"), primary_key=True, index=True)


class CircularReceipt(db.Model):
    """A unit a published circular names (分发): when someone there first opened it (签收)."""
    __tablename__ = "circular_receipt"

    circular_id: Mapped[int] = mapped_column(db.ForeignKey("circular.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), primary_key=True, index=True)
    opened_at: Mapped[datetime | None] = mapped_column()
    opened_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
    reminded_at: Mapped[datetime | None] = mapped_column()
