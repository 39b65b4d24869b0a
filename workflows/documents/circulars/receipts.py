"""Distribution and receipt (签收) of a published circular: the named units read it, the office sees who has not.

A unit "holds" a circular through a role granted at that very unit, not above it: an office whose
subtree contains every named unit must not sign for all of them by opening the page. The first
opening by someone of a named unit records the receipt for each named unit where that person holds
a role, in the same request; later openings change nothing. The office reminds the fillers of the
units that have not opened it, at most once a day per unit.
"""
from datetime import date, timedelta
from typing import NamedTuple

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from sqlalchemy import select, update

from ...access import VIEW_ROLES, can_view, has_role_at
from ...extensions import db
from ...models import Circular, CircularReceipt, Role, RoleGrant, Submission, Unit, User
from ...models.units import utcnow
from ...review.notifications import notification
from .kinds import KINDS

bp = Blueprint("circular_receipts", __name__, url_prefix="/documents/circulars")

REMINDER_KIND = "circular_reminder"
REMIND_AGAIN_AFTER = timedelta(days=1)
_VIEW = [r.value for r in VIEW_ROLES]


class HomeRow(NamedTuple):
    id: int
    title: str
    doc_number: str
    issued: date
    opened: bool


def _own_units(user):
    """The ids of the units where ``user`` holds any role directly (a select, for ``in_``)."""
    return (select(RoleGrant.unit_id).join(Unit, Unit.id == RoleGrant.unit_id)
            .where(RoleGrant.user_id == user.id, RoleGrant.role.in_(_VIEW), Unit.active.is_(True)))


def for_home(user, limit=10):
    """The published circulars naming the person's units, unopened first: one query, no facts loaded.

    Returns rows (id, title, doc_number, issued, opened); a circular naming two of the person's
    units counts as opened only once both are (each unit signs for itself).
    """
    rows = db.session.execute(
        select(Circular.id, Submission.title, Circular.doc_number, Circular.signed_on, Circular.published_at,
               CircularReceipt.opened_at)
        .join(CircularReceipt, CircularReceipt.circular_id == Circular.id)
        .join(Submission, Submission.id == Circular.submission_id)
        .where(CircularReceipt.unit_id.in_(_own_units(user)), Circular.published_at.is_not(None))
        .order_by(CircularReceipt.opened_at.is_(None).desc(), Circular.published_at.desc(), Circular.id.desc())
        .limit(limit * 3)).all()
    out = {}
    for row in rows:
        seen = out.get(row.id)
        opened = (seen is None or seen.opened) and row.opened_at is not None
        out[row.id] = HomeRow(row.id, row.title, row.doc_number, row.signed_on or row.published_at.date(), opened)
    return list(out.values())[:limit]


def _published(circular_id):
    circular = db.session.get(Circular, circular_id)
    if circular is None or circular.published_at is None:
        abort(404)
    return circular


@bp.get("/<int:circular_id>/read")
@login_required
def read(circular_id):
    circular = _published(circular_id)
    mine = db.session.execute(select(CircularReceipt).where(
        CircularReceipt.circular_id == circular.id, CircularReceipt.unit_id.in_(_own_units(current_user)))
    ).scalars().all()
    if not mine:
        abort(404)
    if any(r.opened_at is None for r in mine):
        # A conditional update: two people of the unit opening it at once leave the first one's mark.
        db.session.execute(update(CircularReceipt).where(
            CircularReceipt.circular_id == circular.id, CircularReceipt.unit_id.in_([r.unit_id for r in mine]),
            CircularReceipt.opened_at.is_(None)).values(opened_at=utcnow(), opened_by_id=current_user.id))
        db.session.commit()
    return render_template("circulars/read.html", circular=circular, prose=circular.submission.answers,
                           facts=circular.facts, kind=KINDS[circular.kind])


@bp.get("/of-submission/<int:submission_id>/read")
@login_required
def read_for_submission(submission_id):
    """Where a reminder links: its notification names the circular's submission."""
    circular_id = db.session.execute(select(Circular.id).where(Circular.submission_id == submission_id)
                                     ).scalar_one_or_none()
    if circular_id is None:
        abort(404)
    return redirect(url_for(".read", circular_id=circular_id))


def _viewable(circular_id):
    circular = _published(circular_id)
    if not can_view(current_user, circular.submission):
        abort(404)
    return circular


@bp.get("/<int:circular_id>/receipts")
@login_required
def receipts(circular_id):
    circular = _viewable(circular_id)
    rows = db.session.execute(
        select(Unit.name, Unit.code, CircularReceipt.opened_at, User.display_name, CircularReceipt.reminded_at)
        .join(Unit, Unit.id == CircularReceipt.unit_id)
        .outerjoin(User, User.id == CircularReceipt.opened_by_id)
        .where(CircularReceipt.circular_id == circular.id)
        .order_by(CircularReceipt.opened_at.is_not(None), Unit.path)).all()
    opened = sum(1 for r in rows if r.opened_at is not None)
    return render_template("circulars/receipts.html", circular=circular, rows=rows, opened=opened,
                           total=len(rows),
                           may_remind=has_role_at(current_user, Role.OFFICE, circular.office))


def remind_unopened(circular, now=None):
    """Notify the fillers of each named unit that has not opened it and was not reminded within a day.

    Returns the number of units reminded (each unit's ``reminded_at`` is set, fillers or not, so a
    unit without fillers is not retried every time).
    """
    now = now or utcnow()
    due = db.session.execute(select(CircularReceipt).where(
        CircularReceipt.circular_id == circular.id, CircularReceipt.opened_at.is_(None),
        (CircularReceipt.reminded_at.is_(None)) | (CircularReceipt.reminded_at <= now - REMIND_AGAIN_AFTER))
        .with_for_update()).scalars().all()
    if not due:
        return 0
    fillers = db.session.execute(
        select(RoleGrant.user_id).join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.unit_id.in_([r.unit_id for r in due]), RoleGrant.role == Role.FILLER.value,
               User.active.is_(True)).distinct()).scalars().all()
    params = {"title": circular.submission.title or "", "number": circular.doc_number or "",
              "office": circular.office.name}
    db.session.add_all(notification(user_id, REMINDER_KIND, params, submission_id=circular.submission_id)
                       for user_id in fillers)
    for receipt in due:
        receipt.reminded_at = now
    return len(due)


@bp.post("/<int:circular_id>/remind")
@login_required
def remind(circular_id):
    circular = _viewable(circular_id)
    if not has_role_at(current_user, Role.OFFICE, circular.office):
        abort(403)
    reminded = remind_unopened(circular)
    db.session.commit()
    if reminded:
        flash(ngettext("%(n)d unit that had not opened the circular was reminded.",
                       "%(n)d units that have not opened the circular were reminded.", reminded, n=reminded),
              "success")
    else:
        flash(_("Nobody was reminded: every unit has opened it or was reminded within the last day."), "success")
    return redirect(url_for(".receipts", circular_id=circular.id))

