"""People, the roles they hold at units, and sign-in attempts."""
import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .units import Unit, utcnow


class Role(str, enum.Enum):
    FILLER = "filler"
    CERTIFIER = "certifier"
    REVIEWER = "reviewer"
    OFFICE = "office"
    # The office's head, who signs (签发) its circulars.
    SIGNER = "signer"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    # The unit a person belongs to; an admin manages the people whose home
    # unit lies in the admin's subtree.
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of the id every session carries (see get_id): raising it ends all
    # sessions of the account at their next request, which a signed cookie
    # alone cannot do.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    unit: Mapped[Unit] = relationship()
    grants: Mapped[list["RoleGrant"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="RoleGrant.user_id")

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return f"{self.id}:{self.session_generation or 0}"

    def end_sessions(self):
        """Every session signed in before this call is refused from now on."""
        self.session_generation = (self.session_generation or 0) + 1

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)
        # A new password ends the sessions the old one opened.
        self.end_sessions()

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def __repr__(self):
        return f"<User {self.username}>"


class RoleGrant(db.Model):
    """A role held at a unit; it covers that unit and everything under it."""
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role", name="uq_role_grant_user_unit_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    granted_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    unit: Mapped[Unit] = relationship()


class LoginAttempt(db.Model):
    """One sign-in attempt, keyed by the typed username whether or not it exists."""
    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(default=False)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (db.Index("ix_login_attempt_username_at", "username", "at"),
                      db.Index("ix_login_attempt_remote_addr_at", "remote_addr", "at"))
