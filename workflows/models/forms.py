"""Form definitions as stored versions, the submissions made with them, and their files."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .units import Unit, utcnow

if TYPE_CHECKING:
    from .review import WorkflowVersion


class FormVersion(db.Model):
    """One version of a form definition; immutable once published."""
    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_form_version_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200))
    # draft → published → retired; only a draft may change.
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()
    retired_at: Mapped[datetime | None] = mapped_column()

    @property
    def spec(self):
        from forms.definition import load_definition
        return load_definition(self.source)


class Submission(db.Model):
    """A unit's filled form, pinned to the definition version it was filled under."""
    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(db.ForeignKey("form_version.id"), index=True)
    form_key: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column()
    form_sha256: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"))
    created_by_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"))
    workflow_version_id: Mapped[int | None] = mapped_column(db.ForeignKey("workflow_version.id"))
    state: Mapped[str] = mapped_column(String(32), default="draft")
    # When the current state was entered: the queue is oldest-first by it.
    state_since: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column()
    # Copied from the answers on save, for the queue's filters.
    campaign: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(7))
    title: Mapped[str | None] = mapped_column(String(200))
    # The date the summary names, for list rows: reading it from the answers would detoast each row's JSON.
    activity_on: Mapped[date | None] = mapped_column()
    # How many images the answers hold, kept on save: scores count photos without reading the answers.
    image_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Hash of the newest audit event: a chain cut short at its end is caught.
    audit_head: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Bumped on every change; a stale edit or decision is caught by comparing it.
    row_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()

    definition: Mapped[FormVersion] = relationship()
    unit: Mapped[Unit] = relationship()
    workflow: Mapped["WorkflowVersion | None"] = relationship()

    __table_args__ = (
        db.Index("ix_submission_unit_state_created", "unit_id", "state", "created_at"),
        db.Index("ix_submission_queue", "workflow_version_id", "state", "state_since", "id"),
        # Covers the queue's filter counts, so they never read the answers.
        db.Index("ix_submission_queue_counts", "workflow_version_id", "state", "unit_id", "campaign", "period",
                 "due_at"),
        # The monthly obligations: one form's submissions of a range of months, by state and unit.
        db.Index("ix_submission_obligations", "form_key", "period", "state", "unit_id", "id"),
    )


class StoredFile(db.Model):
    """An uploaded file, stored under a random name outside the answers."""
    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"))
    submission_id: Mapped[int | None] = mapped_column(db.ForeignKey("submission.id"), index=True)
    field_name: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255))
    mimetype: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()

    def reference(self):
        """What the answers hold for this file."""
        return {"id": self.token, "name": self.original_name, "size": self.size, "type": self.mimetype,
                "sha256": self.sha256}
