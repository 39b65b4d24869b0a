"""Volunteers, their units, the city's number sequence, the hours ledger and its running totals.

A volunteer is one row per person, whatever unit or year: ``id_hash`` (the
keyed hash of the ID number) is unique. A service record is never updated in
place nor deleted: every change is a new row of the same ``record_key`` with
the next ``version``, and exactly one row of a lineage is ``is_current`` —
a partial unique index keeps one current record per (submission, volunteer).
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .units import Unit, utcnow
from .users import User

HOURS = Numeric(10, 1)


class Volunteer(db.Model):
    __tablename__ = "volunteer"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_enc: Mapped[str] = mapped_column(Text)
    id_masked: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    sex: Mapped[str] = mapped_column(String(8))
    birth_month: Mapped[str] = mapped_column(String(7))
    phone: Mapped[str | None] = mapped_column(String(32))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    # 志愿者编号: the city's prefix and a gap-free sequence; set in the transaction that creates the row.
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    city_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"))
    guardian_name: Mapped[str | None] = mapped_column(String(50))
    guardian_phone: Mapped[str | None] = mapped_column(String(32))
    guardian_consent: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    guardian_consent_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    # All-time counters, kept by the transactions that certify or change records.
    hours_total: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0"), server_default="0")
    person_times: Mapped[int] = mapped_column(default=0, server_default="0")
    registered_by_submission_id: Mapped[int | None] = mapped_column(db.ForeignKey("submission.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list["VolunteerMembership"]] = relationship(back_populates="volunteer",
                                                                    order_by="VolunteerMembership.id")


class VolunteerMembership(db.Model):
    """A unit or team the volunteer serves with; a person may serve with several."""
    __tablename__ = "volunteer_membership"
    __table_args__ = (UniqueConstraint("volunteer_id", "unit_id", name="uq_volunteer_membership_volunteer_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(db.ForeignKey("volunteer.id"))
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)

    volunteer: Mapped[Volunteer] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship()


class VolunteerNumberSequence(db.Model):
    """One counter row per city; incremented inside the transaction that uses the number, so no gaps."""
    __tablename__ = "volunteer_number_sequence"

    city_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16))
    last_value: Mapped[int] = mapped_column(default=0)


class VolunteerYearTotal(db.Model):
    """A volunteer's certified hours and person-times in one calendar year (of the activity's date)."""
    __tablename__ = "volunteer_year_total"

    volunteer_id: Mapped[int] = mapped_column(db.ForeignKey("volunteer.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0"))
    person_times: Mapped[int] = mapped_column(default=0)


class ServiceRecord(db.Model):
    """One version of one volunteer's certified service in one activity (志愿服务记录)."""
    __tablename__ = "service_record"
    __table_args__ = (
        UniqueConstraint("record_key", "version", name="uq_service_record_key_version"),
        Index("uq_service_record_current", "submission_id", "volunteer_id", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        Index("ix_service_record_volunteer_held_on", "volunteer_id", "held_on"),
        # Leaderboards and the organiser's sums: current, active records by organiser and date, carrying
        # what they add up (an index-only scan on PostgreSQL).
        Index("ix_service_record_board", "organising_unit_id", "held_on",
              postgresql_include=["volunteer_id", "hours"],
              sqlite_where=text("is_current AND status = 'active'"),
              postgresql_where=text("is_current AND status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_key: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(default=1)
    is_current: Mapped[bool] = mapped_column(default=True)
    volunteer_id: Mapped[int] = mapped_column(db.ForeignKey("volunteer.id"))
    submission_id: Mapped[int] = mapped_column(db.ForeignKey("submission.id"), index=True)
    form_version_id: Mapped[int] = mapped_column(db.ForeignKey("form_version.id"))
    form_version: Mapped[int] = mapped_column()
    roster_row: Mapped[int] = mapped_column()
    activity_name: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column()
    place: Mapped[str | None] = mapped_column(String(200))
    beneficiaries: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(Text)
    person_in_charge: Mapped[str | None] = mapped_column(String(50))
    recorder: Mapped[str | None] = mapped_column(String(50))
    reported_hours: Mapped[Decimal] = mapped_column(HOURS)
    hours: Mapped[Decimal] = mapped_column(HOURS)
    organising_unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    certifier_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"))
    certified_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="active")
    # What this version changed: certify, correct (hours set at certification), request, amend, refuse, revoke.
    change: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    # An open correction request: the hours the volunteer's unit asks for, and by which unit.
    correction_open: Mapped[bool] = mapped_column(default=False)
    requested_hours: Mapped[Decimal | None] = mapped_column(HOURS)
    requested_by_unit_id: Mapped[int | None] = mapped_column(db.ForeignKey("unit.id"))
    changed_by_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    organising_unit: Mapped[Unit] = relationship(foreign_keys=[organising_unit_id])
    certifier: Mapped[User] = relationship(foreign_keys=[certifier_id])
    changed_by: Mapped[User] = relationship(foreign_keys=[changed_by_id])


class Certificate(db.Model):
    """A certificate of volunteer service (志愿服务记录证明) over a period, and what it was built from.

    ``records`` holds ``[record id, record key, version]`` of every record it
    counted; when a later version of any of them exists the certificate no
    longer stands (the public check says so). ``code`` is the random,
    URL-safe part of ``/verify/CODE``; ``sha256`` is the PDF's, set by the job.
    """
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    volunteer_id: Mapped[int] = mapped_column(db.ForeignKey("volunteer.id"), index=True)
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    period_from: Mapped[date] = mapped_column()
    period_to: Mapped[date] = mapped_column()
    issued_on: Mapped[date] = mapped_column()
    hours: Mapped[Decimal] = mapped_column(HOURS)
    records: Mapped[list] = mapped_column(JSON, default=list)
    person_in_charge: Mapped[str] = mapped_column(String(50))
    officer: Mapped[str] = mapped_column(String(50))
    contact: Mapped[str] = mapped_column(String(64))
    remarks: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    job_run_id: Mapped[int | None] = mapped_column(db.ForeignKey("job_run.id"))
    # Set when the certificate was issued as part of a whole unit's ZIP.
    batch_id: Mapped[int | None] = mapped_column(db.ForeignKey("certificate_batch.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    volunteer: Mapped[Volunteer] = relationship()
    unit: Mapped[Unit] = relationship()


class CertificateBatch(db.Model):
    """One request for the certificates of every volunteer of a unit over a period, rendered as one ZIP.

    The request fixes the certificates (rows with ``batch_id``) before the job
    starts, so a retried job renders the same rows again into the same bytes.
    """
    __tablename__ = "certificate_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    period_from: Mapped[date] = mapped_column()
    period_to: Mapped[date] = mapped_column()
    issued_on: Mapped[date] = mapped_column()
    count: Mapped[int] = mapped_column(default=0)
    job_run_id: Mapped[int | None] = mapped_column(db.ForeignKey("job_run.id"))
    requested_by_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()
