"""A monthly ballot's life: create (draft), open, marks by the panel, close.

Who sits on the panel. In ``role`` mode the panel is every active person
holding ``BALLOT_PANEL_ROLE`` (default ``office``) exactly at the ballot's
unit (the city office), taken when the ballot opens; in ``list`` mode it is
the accounts named when the ballot was created. A ballot whose panel has
fewer than ``BALLOT_MIN_PANEL`` people (default 3) cannot be opened, and
the refusal says so. Fewer nominations than picks is fine.

When a ballot closes. At its deadline, or as soon as every member has
handed in their marks. There is no periodic job for the deadline: every read
of a ballot (its page, the list, the API, a confirmation) first closes it
if the deadline has passed (``close_if_due``), so nobody can see or act on
an open ballot past its deadline.
"""
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import func, select, update

from ...access import has_role_at
from ...engine.perform import Conflict, Forbidden, Invalid, NotFound, workflow_of
from ...extensions import db
from ...models import (Ballot, BallotItem, BallotMark, BallotMember, Role, RoleGrant, Submission, Unit, User)
from ...models.units import utcnow
from ..periods import Month

RULES = ("score_sum", "borda")
NOMINATION_FORM = "exemplar_nomination"
# The transitions the confirmation performs; a workflow version offers them as ``internal``.
SELECT, NOT_SELECT = "select", "not_select"
TIE_BREAK = "earlier_submission_then_id"
MAX_PICKS = 50
MAX_SCORE = 100


def seat():
    """Where ballots are held: the city office, the root of the unit tree."""
    return db.session.execute(select(Unit).where(Unit.parent_id.is_(None), Unit.active.is_(True))
                              .order_by(Unit.id).limit(1)).scalar_one_or_none()


def may_manage(user, unit):
    return user.is_authenticated and has_role_at(user, Role.OFFICE.value, unit)


def member_of(ballot, user):
    if not user.is_authenticated:
        return None
    return next((m for m in ballot.members if m.user_id == user.id), None)


def may_see(ballot, user):
    return may_manage(user, ballot.unit) or member_of(ballot, user) is not None


def get_visible(ballot_id, user):
    """The ballot (closed first if its deadline passed), or NotFound when it is not the user's to see."""
    ballot = db.session.get(Ballot, ballot_id) if 0 < ballot_id < 2 ** 31 else None
    if ballot is None or not may_see(ballot, user):
        raise NotFound(_("No such ballot."))
    close_if_due(ballot)
    return ballot


def close_if_due(ballot, now=None):
    """Close an open ballot whose deadline has passed (checked on every read); True if it closed now."""
    now = now or utcnow()
    if ballot.status != "open" or ballot.deadline > now:
        return False
    moved = db.session.execute(update(Ballot).where(Ballot.id == ballot.id, Ballot.status == "open",
                                                    Ballot.deadline <= now)
                               .values(status="closed", closed_at=now, row_version=Ballot.row_version + 1)
                               .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(ballot)
    return moved.rowcount == 1


def min_panel():
    return current_app.config.get("BALLOT_MIN_PANEL", 3)


def panel_role():
    return current_app.config.get("BALLOT_PANEL_ROLE", Role.OFFICE.value)


def role_holders(unit):
    """Active accounts holding the panel role exactly at ``unit``."""
    return db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.unit_id == unit.id, RoleGrant.role == panel_role(), User.active.is_(True))
        .distinct().order_by(User.id)).scalars().all()


def ballot_ready(submission):
    """A nomination the ballot can decide: its workflow version has the internal select/not_select."""
    workflow = workflow_of(submission)
    if workflow is None:
        return False
    done = [workflow.find("nominated", action) for action in (SELECT, NOT_SELECT)]
    return all(t is not None and t.model.internal for t in done)


def nominations_for(unit, month):
    """The month's nominations under ``unit`` that passed district review and follow a ballot workflow.

    The month is the nomination's own ``month`` answer (推荐月份); nominations
    pinned to exemplar_review v1 are decided by its quorum vote instead.
    """
    rows = db.session.execute(
        select(Submission).join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.form_key == NOMINATION_FORM, Submission.state == "nominated", Unit.in_subtree(unit.path))
        .order_by(Submission.submitted_at, Submission.id)).scalars().all()
    return [s for s in rows if (s.answers or {}).get("month") == month and ballot_ready(s)]


def _whole(text, field, low, high, errors):
    text = (text or "").strip()
    if not text:
        errors[field] = _("Please fill this in.")
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        errors[field] = _("A whole number from %(low)d to %(high)d, please.", low=low, high=high)
        return None
    return int(text)


def parse_deadline(text):
    text = (text or "").strip().replace("T", " ")
    for layout in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return None


def create_ballot(actor, unit, form, now=None):
    """A draft ballot from the posted ``form`` (a dict of strings); Invalid with ``errors`` by field."""
    now = now or utcnow()
    if not may_manage(actor, unit):
        raise Forbidden(_("Only the office at %(unit)s holds ballots.", unit=unit.name))
    errors = {}
    month = (form.get("month") or "").strip()
    try:
        Month.parse(month)
    except ValueError:
        errors["month"] = _("Write the month as YYYY-MM, e.g. 2017-03.")
    else:
        if db.session.execute(select(Ballot.id).where(Ballot.month == month)).first():
            errors["month"] = _("There is already a ballot for %(month)s.", month=month)
    rule = form.get("rule")
    if rule not in RULES:
        errors["rule"] = _("Choose how the marks are counted.")
    picks = _whole(form.get("picks"), "picks", 1, MAX_PICKS, errors)
    max_score = _whole(form.get("max_score") or "10", "max_score", 1, MAX_SCORE, errors)
    deadline = parse_deadline(form.get("deadline"))
    if deadline is None:
        errors["deadline"] = _("Give the deadline as YYYY-MM-DD HH:MM.")
    elif deadline <= now:
        errors["deadline"] = _("The deadline must be in the future.")
    mode = form.get("panel_mode") or "role"
    members = []
    if mode == "list":
        names = [n for n in (form.get("panel") or "").replace(",", " ").replace("，", " ").split() if n]
        if not names:
            errors["panel"] = _("Name the panel's accounts, or take the office's people.")
        for name in dict.fromkeys(names):
            found = db.session.execute(select(User).where(User.username == name, User.active.is_(True))
                                       ).scalar_one_or_none()
            if found is None:
                errors["panel"] = _("No active account “%(name)s”.", name=name)
                break
            members.append(found)
    elif mode != "role":
        errors["panel_mode"] = _("Choose who sits on the panel.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors=errors)
    ballot = Ballot(unit=unit, month=month, status="draft", rule=rule, picks=picks, max_score=max_score,
                    deadline=deadline, tie_break=TIE_BREAK, panel_mode=mode, created_by_id=actor.id)
    ballot.members = [BallotMember(user_id=u.id) for u in members]
    db.session.add(ballot)
    db.session.flush()
    return ballot


def _moved(ballot, expected_version, status_from, **values):
    """The ballot's compare-and-swap: it moves only from ``status_from`` at the version the person saw."""
    where = [Ballot.id == ballot.id, Ballot.status == status_from]
    if expected_version is not None:
        where.append(Ballot.row_version == expected_version)
    moved = db.session.execute(update(Ballot).where(*where).values(row_version=Ballot.row_version + 1, **values)
                               .execution_options(synchronize_session=False))
    return moved.rowcount == 1


def open_ballot(ballot, actor, expected_version=None, now=None):
    """Take the panel and the month's nominations, then open the ballot for marks."""
    now = now or utcnow()
    if not may_manage(actor, ballot.unit):
        raise Forbidden(_("Only the office at %(unit)s holds ballots.", unit=ballot.unit.name))
    if ballot.status != "draft":
        raise Conflict(_("This ballot is already open."))
    if ballot.deadline <= now:
        raise Invalid(_("The deadline %(when)s has passed: this ballot cannot be opened.",
                        when=ballot.deadline.strftime("%Y-%m-%d %H:%M")), field="deadline")
    people = role_holders(ballot.unit) if ballot.panel_mode == "role" else [m.user for m in ballot.members]
    if len(people) < min_panel():
        raise Invalid(ngettext("The panel has %(count)d member, but a ballot needs at least %(min)d: give more "
                               "people the “%(role)s” role at %(unit)s, or name a larger panel.",
                               "The panel has %(count)d members, but a ballot needs at least %(min)d: give more "
                               "people the “%(role)s” role at %(unit)s, or name a larger panel.", len(people),
                               count=len(people), min=min_panel(), role=panel_role(), unit=ballot.unit.name),
                      field="panel")
    nominations = nominations_for(ballot.unit, ballot.month)
    if not nominations:
        raise Invalid(_("No nomination for %(month)s has passed district review yet: there is nothing to vote "
                        "on.", month=ballot.month), field="month")
    if not _moved(ballot, expected_version, "draft", status="open", opened_at=now):
        db.session.rollback()
        raise Conflict(_("This ballot changed since you opened it; look again."))
    if ballot.panel_mode == "role":
        db.session.execute(BallotMember.__table__.delete().where(BallotMember.ballot_id == ballot.id))
        db.session.add_all(BallotMember(ballot_id=ballot.id, user_id=u.id) for u in people)
    db.session.add_all(BallotItem(ballot_id=ballot.id, submission_id=s.id) for s in nominations)
    db.session.commit()
    db.session.refresh(ballot)
    return ballot


def own_unit(user, submission, seat_unit):
    """Whether ``submission`` comes from ``user``'s own unit, which they may not mark.

    A person's own units are their account's home unit and every unit where
    they hold a role. A nomination is their own when its unit lies within
    one of those units' subtrees (the unit itself or below it) — with one
    exception: the ballot's seat (the city office) sits above every
    nomination, so holding a role there would exclude everything; at the seat
    only a nomination filed by the seat unit itself counts as one's own.
    """
    paths = {user.unit.path} | {g.unit.path for g in user_grants(user)}
    unit_path = submission.unit.path
    for path in paths:
        if path == seat_unit.path:
            if unit_path == path:
                return True
        elif unit_path.startswith(path):
            return True
    return False


def user_grants(user):
    return db.session.execute(select(RoleGrant).where(RoleGrant.user_id == user.id)).scalars().all()


def marks_of(ballot, member):
    return {m.item_id: m for m in db.session.execute(select(BallotMark).where(
        BallotMark.member_id == member.id)).scalars()}


def record_marks(ballot, user, form, now=None):
    """Hand in (or hand in again) ``user``'s marks from ``form`` fields ``item-<id>``.

    score_sum: a whole score from 1 to max_score for up to ``picks`` items;
    borda: a rank from 1 to ``picks``, each rank once. Blank means no mark.
    Marks are all or nothing: any error and nothing is written. Returns True
    when this hand-in closed the ballot (every member has voted).
    """
    now = now or utcnow()
    member = member_of(ballot, user)
    if member is None:
        raise Forbidden(_("You are not on this ballot's panel."))
    # Members queue on the ballot's row, so the last one to vote sees every other vote.
    status = db.session.execute(select(Ballot.status).where(Ballot.id == ballot.id).with_for_update()).scalar()
    if status != "open" or ballot.deadline <= now:
        db.session.rollback()
        raise Conflict(_("This ballot is closed: marks can no longer be changed."))
    errors, chosen = {}, {}
    seat_unit = ballot.unit
    high = ballot.max_score if ballot.rule == "score_sum" else ballot.picks
    for item in ballot.items:
        field = f"item-{item.id}"
        text = (form.get(field) or "").strip()
        if not text:
            continue
        if own_unit(user, item.submission, seat_unit):
            errors[field] = _("This nomination comes from your own unit: you may not mark it.")
        elif not text.isdigit() or not 1 <= int(text) <= high:
            errors[field] = (_("A score from 1 to %(high)d, please.", high=high) if ballot.rule == "score_sum"
                             else _("A rank from 1 to %(high)d, please.", high=high))
        else:
            chosen[item.id] = int(text)
    if ballot.rule == "borda":
        seen = {}
        for item_id, rank in chosen.items():
            if rank in seen:
                errors[f"item-{item_id}"] = _("Rank %(rank)d is given twice.", rank=rank)
            seen[rank] = item_id
    if len(chosen) > ballot.picks:
        errors["marks"] = ngettext("Mark at most %(picks)d nomination; you marked %(count)d.",
                                   "Mark at most %(picks)d nominations; you marked %(count)d.", ballot.picks,
                                   picks=ballot.picks, count=len(chosen))
    if not chosen and not errors:
        errors["marks"] = _("Mark at least one nomination.")
    if errors:
        db.session.rollback()
        raise Invalid(_("Please correct the marked fields."), errors=errors)
    db.session.execute(BallotMark.__table__.delete().where(BallotMark.member_id == member.id))
    value = "score" if ballot.rule == "score_sum" else "rank"
    db.session.add_all(BallotMark(ballot_id=ballot.id, member_id=member.id, item_id=item_id, **{value: v})
                       for item_id, v in chosen.items())
    db.session.execute(update(BallotMember).where(BallotMember.id == member.id).values(voted_at=now))
    waiting = db.session.execute(select(func.count()).select_from(BallotMember).where(
        BallotMember.ballot_id == ballot.id, BallotMember.voted_at.is_(None))).scalar()
    closed = waiting == 0 and _moved(ballot, None, "open", status="closed", closed_at=now)
    db.session.commit()
    db.session.refresh(ballot)
    return closed
