"""The monthly top ten (月评十佳) as a ballot: the ballot, its panel, its items and each member's marks.

A ballot is held at one office unit (the city office) for one month. Its
panel is frozen into ``ballot_member`` when it opens (or set by hand when it
is created); its items are that month's nominations standing in
``nominated`` when it opens. ``row_version`` is the compare-and-swap of the
ballot's own moves (open, close, confirm): of two confirmations, one wins.
"""
from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .units import Unit, utcnow
from .users import User


class Ballot(db.Model):
    __tablename__ = "ballot"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(db.ForeignKey("unit.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM: one ballot a month
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft, open, closed, confirmed
    rule: Mapped[str] = mapped_column(String(16))  # score_sum or borda
    picks: Mapped[int] = mapped_column(default=10)
    max_score: Mapped[int] = mapped_column(default=10)
    deadline: Mapped[datetime] = mapped_column()  # naive UTC, as every time column
    tie_break: Mapped[str] = mapped_column(String(32), default="earlier_submission_then_id")
    panel_mode: Mapped[str] = mapped_column(String(8), default="role")  # role (office at the unit) or list
    row_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    confirmed_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column()

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    confirmed_by: Mapped["User | None"] = relationship(foreign_keys=[confirmed_by_id])
    members: Mapped[list["BallotMember"]] = relationship(back_populates="ballot", order_by="BallotMember.id",
                                                         cascade="all, delete-orphan")
    items: Mapped[list["BallotItem"]] = relationship(back_populates="ballot", order_by="BallotItem.id",
                                                     cascade="all, delete-orphan")


class BallotMember(db.Model):
    """One person on the panel; ``voted_at`` is set when they hand in their marks."""
    __tablename__ = "ballot_member"
    __table_args__ = (UniqueConstraint("ballot_id", "user_id", name="uq_ballot_member_ballot_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(db.ForeignKey("ballot.id"), index=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("user_account.id"), index=True)
    voted_at: Mapped[datetime | None] = mapped_column()

    ballot: Mapped[Ballot] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class BallotItem(db.Model):
    __tablename__ = "ballot_item"
    __table_args__ = (UniqueConstraint("ballot_id", "submission_id", name="uq_ballot_item_ballot_submission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(db.ForeignKey("ballot.id"), index=True)
    submission_id: Mapped[int] = mapped_column(db.ForeignKey("submission.id"), index=True)

    ballot: Mapped[Ballot] = relationship(back_populates="items")
    submission = relationship("Submission")


class BallotMark(db.Model):
    """A member's score (score_sum) or rank (borda) for one item; at most one per member and item."""
    __tablename__ = "ballot_mark"
    __table_args__ = (UniqueConstraint("member_id", "item_id", name="uq_ballot_mark_member_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(db.ForeignKey("ballot.id"), index=True)
    member_id: Mapped[int] = mapped_column(db.ForeignKey("ballot_member.id"), index=True)
    item_id: Mapped[int] = mapped_column(db.ForeignKey("ballot_item.id"), index=True)
    score: Mapped[int | None] = mapped_column()
    rank: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
