"""Corrections on the volunteer's page: the volunteer's unit asks, the organiser amends, refuses or revokes.

Each form posts the record version it was shown (``expected_version``), so
a decision taken on a page that has gone stale since is refused, not
applied to a record someone else already changed. A refusal comes back as
the volunteer's page with the message beside that record's form and what
was typed kept; nothing is written (``corrections`` rolls back).
"""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..engine.perform import ActionError
from ..extensions import db
from ..models import ServiceRecord
from . import corrections
from .pages import render_volunteer
from .queries import visible_volunteer
from .record_actions import asking_units

bp = Blueprint("corrections", __name__)


def _current(record_key):
    record = db.session.execute(select(ServiceRecord).where(
        ServiceRecord.record_key == record_key, ServiceRecord.is_current.is_(True))).scalar_one_or_none()
    if record is None:
        abort(404)
    return record


def _decide(record_key, operation, done):
    """Run one corrections operation for the record's volunteer page; back to the page either way."""
    record = _current(record_key)
    number = record.volunteer.number
    # A record the viewer may not see at all is not found, as the volunteer's page is.
    if visible_volunteer(current_user, number) is None:
        abort(404)
    try:
        operation(record)
    except ActionError as refused:
        db.session.rollback()
        if refused.status == 404:
            abort(404)
        volunteer, paths = visible_volunteer(current_user, number)
        typed = {name: request.form.get(name, "") for name in ("reason", "hours", "unit_id")}
        return render_volunteer(volunteer, paths, refusal={"key": record_key, "form": request.form.get("form"),
                                                          "message": refused.message, "typed": typed},
                                status=refused.status)
    flash(done, "success")
    return redirect(url_for("volunteers.show", number=number) + f"#record-{record_key}")


def _version():
    return request.form.get("expected_version", type=int)


@bp.post("/volunteers/records/<record_key>/correction")
@login_required
def ask(record_key):
    def operation(record):
        unit_id = request.form.get("unit_id", type=int)
        if unit_id is None:  # the page sends the unit only when the asker could speak for several
            units = asking_units(record.volunteer, current_user)
            unit_id = units[0].id if len(units) == 1 else None
        corrections.request_correction(record_key, current_user, unit_id,
                                       request.form.get("reason"), hours=request.form.get("hours") or None,
                                       expected_version=_version())
    return _decide(record_key, operation, _("The correction request is sent to the organising unit."))


@bp.post("/volunteers/records/<record_key>/amend")
@login_required
def amend(record_key):
    def operation(record):
        corrections.amend(record_key, current_user, request.form.get("hours"), request.form.get("reason"),
                          expected_version=_version())
    return _decide(record_key, operation, _("The record is corrected; the totals follow."))


@bp.post("/volunteers/records/<record_key>/refuse")
@login_required
def refuse(record_key):
    def operation(record):
        corrections.refuse_correction(record_key, current_user, request.form.get("reason"),
                                      expected_version=_version())
    return _decide(record_key, operation, _("The correction request is refused; the record stays as it was."))


@bp.post("/volunteers/records/<record_key>/revoke")
@login_required
def revoke(record_key):
    def operation(record):
        corrections.revoke(record_key, current_user, request.form.get("reason"), expected_version=_version())
    return _decide(record_key, operation, _("The certification is revoked; the record no longer counts."))
