"""A ballot's result: points by the declared rule, ties broken by the stated order, each member's marks.

score_sum: an item's points are the sum of the scores it was given.
borda: with ``picks`` = k, a rank 1 is worth k points, rank 2 k − 1, … rank k 1.
Ties (equal points) go to the earlier submission (``submitted_at``), then the
lower submission id — the order ``Ballot.tie_break`` names and the page states.
The top ``picks`` items with at least one point are selected; an item nobody
marked is never selected, even when there are fewer marked items than picks.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ...extensions import db
from ...models import BallotItem, BallotMark, BallotMember, Submission, Unit, User


@dataclass
class Row:
    item_id: int
    submission_id: int
    title: str
    unit: str
    unit_id: int
    submitted_at: datetime | None
    points: int = 0
    marks: dict = field(default_factory=dict)  # member id → score or rank
    place: int = 0
    selected: bool = False


@dataclass
class Result:
    rows: list
    members: list  # (member id, display name, voted)

    @property
    def selected(self):
        return [r for r in self.rows if r.selected]


def points_of(rule, picks, mark_value):
    return mark_value if rule == "score_sum" else picks - mark_value + 1


def _order(row):
    # The stated tie-break: more points first, then the earlier submission, then the lower id.
    return (-row.points, row.submitted_at or datetime.max, row.submission_id)


def result(ballot):
    """Three queries whatever the size: items with their submissions, members, marks."""
    items = db.session.execute(
        select(BallotItem.id, Submission.id, Submission.title, Unit.name, Unit.id, Submission.submitted_at)
        .join(Submission, Submission.id == BallotItem.submission_id).join(Unit, Unit.id == Submission.unit_id)
        .where(BallotItem.ballot_id == ballot.id)).all()
    rows = {item_id: Row(item_id, sid, title or "", unit, unit_id, at)
            for item_id, sid, title, unit, unit_id, at in items}
    members = db.session.execute(
        select(BallotMember.id, User.display_name, BallotMember.voted_at).join(User, User.id == BallotMember.user_id)
        .where(BallotMember.ballot_id == ballot.id).order_by(BallotMember.id)).all()
    marks = db.session.execute(select(BallotMark.member_id, BallotMark.item_id, BallotMark.score, BallotMark.rank)
                               .where(BallotMark.ballot_id == ballot.id)).all()
    for member_id, item_id, score, rank in marks:
        row = rows.get(item_id)
        if row is None:
            continue
        value = score if ballot.rule == "score_sum" else rank
        if value is None:
            continue
        row.marks[member_id] = value
        row.points += points_of(ballot.rule, ballot.picks, value)
    ordered = sorted(rows.values(), key=_order)
    for place, row in enumerate(ordered, start=1):
        row.place = place
        row.selected = place <= ballot.picks and row.points > 0
    return Result(ordered, [(mid, name, voted is not None) for mid, name, voted in members])
