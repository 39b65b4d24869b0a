"""Workflow versions and what moving submissions through them leaves behind."""
from datetime import datetime

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .units import utcnow
from .users import User


class WorkflowVersion(db.Model):
    __tablename__ = "workflow_version"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_workflow_version_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column()
    form_key: Mapped[str] = mapped_column(String(64), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="published")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()


class AuditEvent(db.Model):
    """Append-only: one row per change of a submission, chained by hash per submission."""
    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("submission_id", "seq", name="uq_audit_event_submission_seq"),
                      # When a submission first reached a state (the monthly obligations' "by the deadline").
                      db.Index("ix_audit_event_reached", "submission_id", "to_state", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(db.ForeignKey("submission.id"))
    seq: Mapped[int] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    form_version: Mapped[int] = mapped_column()
    workflow_version: Mapped[int | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()


class Vote(db.Model):
    """One person's decision inside an approval block; a round is the visit to the state."""
    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("submission_id", "round", "voter_id", name="uq_vote_round_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(db.ForeignKey("submission.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    round: Mapped[int] = mapped_column()
    voter_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    voter: Mapped[User] = relationship()


class IdempotencyRecord(db.Model):
    """The first answer to a request with an idempotency key, returned again for repeats."""
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"))
    key: Mapped[str] = mapped_column(String(128))
    submission_id: Mapped[int] = mapped_column(db.ForeignKey("submission.id"))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[int] = mapped_column()
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (db.Index("ix_notification_user_read", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(db.ForeignKey("submission.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)  # in Chinese: what rows without ``params`` show to everyone
    # What the kind's message is made of, rendered in the reader's language when read (None on old rows).
    params: Mapped[dict | None] = mapped_column(JSON)
    # For "action needed": the state the submission was in; once it has left it, someone else acted.
    for_state: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class Snapshot(db.Model):
    """What ``freeze`` keeps: the answers, the files' checksums and the versions, as they were."""
    __tablename__ = "snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(db.ForeignKey("submission.id"), index=True)
    answers: Mapped[dict] = mapped_column(JSON)
    files: Mapped[list] = mapped_column(JSON)
    form_key: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column()
    form_sha256: Mapped[str] = mapped_column(String(64))
    workflow_key: Mapped[str | None] = mapped_column(String(64))
    workflow_version: Mapped[int | None] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReturnedVersion(db.Model):
    """The answers a submission had when it came back to its filler, kept at the first save after that event.

    One per event (a return, a send-back): the reviewer who sees it again compares against what they returned.
    """
    __tablename__ = "returned_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(db.ForeignKey("submission.id"), index=True)
    event_id: Mapped[int] = mapped_column(db.ForeignKey("audit_event.id"), unique=True)
    answers: Mapped[dict] = mapped_column(JSON)
    form_version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[AuditEvent] = relationship()


class ApiToken(db.Model):
    """A personal API token; only its hash is stored."""
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(foreign_keys=[user_id])
