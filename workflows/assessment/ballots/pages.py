"""Ballot pages: the office's list and creation form, a ballot's marks, result and confirmation.

Every refusal comes back as the same page with the message beside its field
and everything typed kept; nothing is written (the operations roll back).
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ...access import grant_paths
from ...engine.perform import ActionError, NotFound
from ...extensions import db
from ...models import Ballot, BallotMember, Role
from ...models.units import utcnow
from . import ballot as ballots
from .confirmation import confirm as confirm_ballot
from .results import result

bp = Blueprint("ballots", __name__, url_prefix="/assessment/ballots")
STATUSES = {"draft": _l("Draft"), "open": _l("Open for marks"), "closed": _l("Closed"),
            "confirmed": _l("Confirmed")}
RULE_NAMES = {"score_sum": _l("Score sum"), "borda": _l("Borda count")}


@bp.app_template_global("ballot_status")
def ballot_status(status):
    return str(STATUSES.get(status, status))


@bp.app_template_global("ballot_rule")
def ballot_rule(rule):
    return str(RULE_NAMES.get(rule, rule))


def sees_ballots():
    if not current_user.is_authenticated:
        return False
    # Ballots sit at the root of the tree: only an office role held at a root can manage them.
    if any(path.count("/") == 2 for path in grant_paths(current_user, Role.OFFICE.value)):
        seat = ballots.seat()
        if seat is not None and ballots.may_manage(current_user, seat):
            return True
    return db.session.execute(select(BallotMember.id).where(BallotMember.user_id == current_user.id)
                              .limit(1)).first() is not None


def _seat_or_404():
    seat = ballots.seat()
    if seat is None or not ballots.may_manage(current_user, seat):
        abort(404)
    return seat


def _listing(seat, typed=None, errors=None, status=200):
    mine = db.session.execute(select(Ballot.id).join(BallotMember, BallotMember.ballot_id == Ballot.id)
                              .where(BallotMember.user_id == current_user.id)).scalars().all()
    manages = seat is not None and ballots.may_manage(current_user, seat)
    # The office sees every ballot it holds; a panel member only the ballots they sit on.
    shown = (Ballot.unit_id == seat.id) | Ballot.id.in_(mine) if manages else Ballot.id.in_(mine)
    rows = db.session.execute(select(Ballot).where(shown).order_by(Ballot.month.desc())).scalars().all()
    for row in rows:
        ballots.close_if_due(row)
    return render_template("assessment/ballots.html", ballots=rows, seat=seat, manages=manages,
                           typed=typed or {"rule": "score_sum", "picks": "10", "max_score": "10",
                                           "panel_mode": "role"},
                           errors=errors or {}, min_panel=ballots.min_panel(),
                           holders=ballots.role_holders(seat) if seat else []), status


@bp.get("/")
@login_required
def index():
    if not sees_ballots():
        abort(404)
    return _listing(ballots.seat())


@bp.post("/")
@login_required
def create():
    seat = _seat_or_404()
    typed = {k: request.form.get(k, "") for k in ("month", "rule", "picks", "max_score", "deadline",
                                                  "panel_mode", "panel")}
    try:
        created = ballots.create_ballot(current_user, seat, typed)
        db.session.commit()
    except ActionError as refused:
        db.session.rollback()
        errors = refused.details.get("errors") or {"form": refused.message}
        return _listing(seat, typed, errors, status=422)
    flash(_("Ballot for %(month)s created as a draft; open it when the panel and nominations are ready.",
            month=created.month), "success")
    return redirect(url_for("ballots.show", ballot_id=created.id))


def _show(ballot, typed=None, errors=None, status=200):
    member = ballots.member_of(ballot, current_user)
    manages = ballots.may_manage(current_user, ballot.unit)
    outcome = result(ballot)
    own = {}
    mine = {}
    if member is not None:
        mine = {item_id: (m.score if ballot.rule == "score_sum" else m.rank)
                for item_id, m in ballots.marks_of(ballot, member).items()}
        items = {i.id: i for i in ballot.items}
        own = {row.item_id for row in outcome.rows if ballots.own_unit(current_user, items[row.item_id].submission,
                                                                        ballot.unit)}
    preview = ballots.nominations_for(ballot.unit, ballot.month) if ballot.status == "draft" else []
    # Marks are shown in the item order of the nominations (oldest first) while voting, by place once closed.
    rows = outcome.rows if ballot.status in ("closed", "confirmed") else sorted(
        outcome.rows, key=lambda r: (r.submitted_at or utcnow(), r.submission_id))
    return render_template("assessment/ballot.html", ballot=ballot, member=member, manages=manages,
                           outcome=outcome, rows=rows, own=own, mine=mine, typed=typed, errors=errors or {},
                           preview=preview, min_panel=ballots.min_panel(),
                           holders=ballots.role_holders(ballot.unit) if ballot.panel_mode == "role" else []), status


def _visible(ballot_id):
    try:
        return ballots.get_visible(ballot_id, current_user)
    except NotFound:
        abort(404)


@bp.get("/<int:ballot_id>")
@login_required
def show(ballot_id):
    return _show(_visible(ballot_id))


@bp.post("/<int:ballot_id>/open")
@login_required
def open_(ballot_id):
    ballot = _visible(ballot_id)
    try:
        ballots.open_ballot(ballot, current_user, request.form.get("expected_version", type=int))
    except ActionError as refused:
        db.session.rollback()
        if refused.status == 403:
            abort(403)
        return _show(db.session.get(Ballot, ballot_id), errors={refused.details.get("field") or "open":
                                                                refused.message}, status=refused.status)
    flash(_("The ballot is open: the panel can mark the nominations until %(when)s.",
            when=ballot.deadline.strftime("%Y-%m-%d %H:%M")), "success")
    return redirect(url_for("ballots.show", ballot_id=ballot_id))


@bp.post("/<int:ballot_id>/marks")
@login_required
def mark(ballot_id):
    ballot = _visible(ballot_id)
    typed = {k: v for k, v in request.form.items() if k.startswith("item-")}
    try:
        closed = ballots.record_marks(ballot, current_user, request.form)
    except ActionError as refused:
        db.session.rollback()
        if refused.status == 403:
            abort(403)
        errors = refused.details.get("errors") or {"marks": refused.message}
        return _show(db.session.get(Ballot, ballot_id), typed=typed, errors=errors, status=refused.status)
    flash(_("Your marks are recorded; every member has now voted and the ballot is closed.") if closed
          else _("Your marks are recorded. You can change them until the ballot closes."), "success")
    return redirect(url_for("ballots.show", ballot_id=ballot_id))


@bp.post("/<int:ballot_id>/confirm")
@login_required
def confirm(ballot_id):
    ballot = _visible(ballot_id)
    try:
        outcome = confirm_ballot(ballot.id, current_user, request.form.get("expected_version", type=int))
    except ActionError as refused:
        db.session.rollback()
        if refused.status == 403:
            abort(403)
        return _show(db.session.get(Ballot, ballot_id), errors={"confirm": refused.message}, status=refused.status)
    flash(ngettext("Confirmed: %(selected)d nomination selected, %(rest)d not selected.",
                   "Confirmed: %(selected)d nominations selected, %(rest)d not selected.", len(outcome.selected),
                   selected=len(outcome.selected), rest=len(outcome.rows) - len(outcome.selected)), "success")
    return redirect(url_for("ballots.show", ballot_id=ballot_id))
