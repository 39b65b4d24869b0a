"""Volunteer pages: the certifier's roster decisions, a unit's volunteers, one volunteer, leaderboards, "show".

Nothing here decrypts an ID number except the audited "show" (``reveal``):
lists and searches use the stored mask's last four digits, and every page
but the show's answer prints only those.
"""
import re
from datetime import date

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import func, select

from ..access import can_view, grant_paths, has_role_at
from ..engine import audit
from ..engine.perform import ActionError, perform
from ..extensions import db
from ..filling.personal_data import last_four, reveal_number
from ..filling.submissions import register_decision_panel
from ..models import Role, ServiceRecord, Submission, Unit, Volunteer, VolunteerMembership, VolunteerYearTotal
from ..models.units import utcnow
from . import export, queries
from .certification import DECISIONS, ROSTER
from .record_actions import record_actions
from .stars import star_level

bp = Blueprint("volunteers", __name__)
PAGE = 50
BOARD = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROW_FIELD = re.compile(r"^roster\[(\d+)\]")


# --- the certifier's step -------------------------------------------------------------------------------------

def roster_rows(submission):
    """The report's roster as the certifier sees it: name, last four digits, hours, volunteer number here."""
    rows = (submission.answers or {}).get(ROSTER) or []
    hashes = [r["id_number"].get("hash") for r in rows if isinstance(r.get("id_number"), dict)]
    registered = dict(db.session.execute(
        select(Volunteer.id_hash, Volunteer.number).join(VolunteerMembership)
        .where(VolunteerMembership.unit_id == submission.unit_id, Volunteer.id_hash.in_(hashes))).all()) \
        if hashes else {}
    out = []
    for index, row in enumerate(rows):
        envelope = row.get("id_number")
        out.append({"index": index, "name": row.get("name") or "",
                    "masked": last_four(envelope) if envelope else "",
                    "hours": row.get("hours"),
                    "number": registered.get(envelope.get("hash")) if isinstance(envelope, dict) else None})
    return out


def _is_roster_report(submission):
    return isinstance((submission.answers or {}).get(ROSTER), list)


def _render_certify(template, submission, transition=None, choices=None, errors=None, general=None):
    return render_template(template, submission=submission, rows=roster_rows(submission),
                           choices=choices or {}, errors=errors or {}, general=general or [],
                           transition=transition, decisions=DECISIONS,
                           may_reveal=has_role_at(current_user, Role.CERTIFIER, submission.unit),
                           comment=request.form.get("comment", "") if request.method == "POST" else "")


def certify_panel(submission, transition):
    """The certify action on the submission's page: one decision per roster row instead of a bare button."""
    if not _is_roster_report(submission):
        return None
    return Markup(_render_certify("volunteers/_certify.html", submission, transition))


def _choices(form, count):
    choices = {}
    for index in range(count):
        decision = form.get(f"decision-{index}", "confirm")
        choices[index] = {"decision": decision if decision in DECISIONS else "confirm",
                          "hours": (form.get(f"hours-{index}") or "").strip(),
                          "reason": (form.get(f"reason-{index}") or "").strip()}
    return choices


@bp.post("/submissions/<int:submission_id>/certify")
@login_required
def certify(submission_id):
    submission = db.session.get(Submission, submission_id)
    if submission is None or not can_view(current_user, submission) or not _is_roster_report(submission):
        abort(404)
    choices = _choices(request.form, len(submission.answers.get(ROSTER) or []))
    rows = {}
    for index, choice in choices.items():
        if choice["decision"] == "correct":
            rows[str(index)] = dict(choice)
        elif choice["decision"] == "exclude":
            rows[str(index)] = {"decision": "exclude", "reason": choice["reason"]}
    try:
        perform(submission_id, "certify", current_user, comment=request.form.get("comment"),
                expected_version=request.form.get("expected_version", type=int),
                idempotency_key=request.form.get("idempotency_key") or None, params={"rows": rows})
    except ActionError as refused:
        db.session.rollback()
        if refused.status == 404:
            abort(404)
        submission = db.session.get(Submission, submission_id)
        errors, general = {}, []
        match = ROW_FIELD.match(str(refused.details.get("field") or ""))
        if match:
            errors[int(match.group(1))] = refused.message
        else:
            general.append(refused.message)
        # The page again, with every choice the certifier made and the message next to its row.
        return _render_certify("volunteers/certify.html", submission, choices=choices, errors=errors,
                               general=general), refused.status
    flash(_("The service hours are certified."), "success")
    return redirect(url_for("submissions.show", submission_id=submission_id))


# --- a unit's volunteers --------------------------------------------------------------------------------------

def _paths():
    return queries.visible_paths(current_user)


_within = queries.within


@bp.get("/volunteers/")
@login_required
def index():
    paths = _paths()
    if not paths:
        abort(403)
    year = utcnow().year
    q = (request.args.get("q") or "").strip()[:50]
    star = request.args.get("star", type=int)
    found = queries.search(paths, year, q=q, star=star, after=request.args.get("after", type=int), limit=PAGE)
    more = len(found) > PAGE
    found = found[:PAGE]
    units = {}
    if found:
        for volunteer_id, name in db.session.execute(
                select(VolunteerMembership.volunteer_id, Unit.name).join(Unit, Unit.id == VolunteerMembership.unit_id)
                .where(VolunteerMembership.volunteer_id.in_([v.id for v, _h in found]), Unit.in_any_subtree(paths))
                .order_by(Unit.path)):
            units.setdefault(volunteer_id, []).append(name)
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template("volunteers/index.html", found=found, units=units, q=q, star=star, year=year,
                           levels=range(len(current_app.config["STAR_THRESHOLDS"]) + 1), star_level=star_level,
                           last_four=last_four, args=args, next_after=found[-1][0].id if more else None,
                           may_batch=bool(grant_paths(current_user, Role.CERTIFIER)))


def _visible_volunteer(number):
    """The volunteer, when the viewer holds a role where they serve or at an organiser of their records."""
    seen = queries.visible_volunteer(current_user, number)
    if seen is None:
        abort(404)
    return seen


@bp.get("/volunteers/<number>")
@login_required
def show(number):
    volunteer, paths = _visible_volunteer(number)
    return render_volunteer(volunteer, paths)


def render_volunteer(volunteer, paths, refusal=None, status=200):
    """The volunteer's page; ``refusal``: a correction form refused, shown by its record with what was typed."""
    years = db.session.execute(select(VolunteerYearTotal).where(VolunteerYearTotal.volunteer_id == volunteer.id)
                               .order_by(VolunteerYearTotal.year.desc())).scalars().all()
    records = queries.current_records(volunteer)
    memberships = [m for m in volunteer.memberships if _within(m.unit, paths)]
    return render_template("volunteers/show.html", volunteer=volunteer, years=years, records=records,
                           memberships=memberships, masked=last_four(volunteer.id_masked),
                           stars=star_level(volunteer.hours_total),
                           open_record=lambda r: _within(r.organising_unit, paths),
                           actions=record_actions(volunteer, records, current_user), refusal=refusal or {},
                           may_reveal=_may_reveal_volunteer(volunteer)), status


# --- the records export ---------------------------------------------------------------------------------------

def _day(name):
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.get("/volunteers/records.xlsx")
@login_required
def records_export():
    """The current service records organised by the unit's subtree in the period, for a viewer with a role
    at that unit; ID numbers as their last four digits."""
    unit = db.session.get(Unit, request.args.get("unit", type=int) or 0)
    if unit is None:
        abort(404)
    if not queries.within(unit, _paths()):
        abort(403)
    start, end = _day("from"), _day("to")
    if start is None or end is None or start > end:
        return make_response(_("Give the period as from=YYYY-MM-DD and to=YYYY-MM-DD, from not after to."), 400,
                             {"Content-Type": "text/plain; charset=utf-8"})
    response = make_response(export.records_workbook(unit, start, end))
    response.headers["Content-Type"] = XLSX
    response.headers["Content-Disposition"] = (f'attachment; filename="service-records-{unit.id}-'
                                               f'{start.isoformat()}-{end.isoformat()}.xlsx"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- leaderboards ----------------------------------------------------------------------------------------------

def _district(path):
    parts = path.strip("/").split("/")
    return "/" + "/".join(parts[:2]) + "/"


@bp.get("/volunteers/leaderboard")
@login_required
def leaderboard():
    paths = _paths()
    if not paths:
        abort(403)
    scope = request.args.get("scope") if request.args.get("scope") in ("unit", "district") else "unit"
    year = request.args.get("year", type=int) or utcnow().year
    if not 1900 <= year <= 9999:
        abort(404)
    if scope == "district":
        paths = sorted({_district(p) for p in paths})
    # Sum per volunteer first and join the few winners afterwards: the sum reads only the partial covering
    # index (organising unit, date → volunteer, hours), never a volunteer row it does not show.
    hours = func.sum(ServiceRecord.hours).label("hours")
    times = func.count().label("times")
    # The organisers' ids as a list, not a join: the planner then walks the index unit by unit.
    organisers = db.session.execute(select(Unit.id).where(Unit.in_any_subtree(paths))).scalars().all()
    top = (select(ServiceRecord.volunteer_id, hours, times)
           .where(ServiceRecord.is_current.is_(True), ServiceRecord.status == "active",
                  ServiceRecord.held_on >= date(year, 1, 1), ServiceRecord.held_on <= date(year, 12, 31),
                  ServiceRecord.organising_unit_id.in_(organisers))
           .group_by(ServiceRecord.volunteer_id)
           .order_by(hours.desc(), ServiceRecord.volunteer_id).limit(BOARD).subquery())
    rows = db.session.execute(
        select(Volunteer.number, Volunteer.name, top.c.hours, top.c.times)
        .join(top, top.c.volunteer_id == Volunteer.id)
        .order_by(top.c.hours.desc(), Volunteer.id)).all()
    return render_template("volunteers/leaderboard.html", rows=rows, scope=scope, year=year)


# --- the audited "show" of a full ID number --------------------------------------------------------------------

def _may_reveal_volunteer(volunteer):
    return any(has_role_at(current_user, Role.CERTIFIER, m.unit) for m in volunteer.memberships)


def _reveal(submission, number, back, target):
    """Ask for the reason, or write the audit row and show the number once (never cached)."""
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        return render_template("volunteers/reveal.html", number=None, back=back, target=target,
                               error=_("Please give the reason for showing the full number.")), 422
    audit.append(submission, current_user, "reveal_id", submission.state, submission.state, reason[:500], utcnow())
    db.session.commit()
    response = make_response(render_template("volunteers/reveal.html", number=number, back=back, target=None,
                                             error=None))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/submissions/<int:submission_id>/roster/<int:row>/reveal")
@login_required
def reveal_row(submission_id, row):
    submission = db.session.get(Submission, submission_id)
    if submission is None or not can_view(current_user, submission) or not _is_roster_report(submission):
        abort(404)
    rows = submission.answers.get(ROSTER) or []
    if not 0 <= row < len(rows) or not isinstance(rows[row].get("id_number"), dict):
        abort(404)
    if not has_role_at(current_user, Role.CERTIFIER, submission.unit):
        abort(403)
    number = reveal_number(rows[row]["id_number"])
    if number is None:
        abort(404)
    return _reveal(submission, number, url_for("submissions.show", submission_id=submission_id),
                   url_for("volunteers.reveal_row", submission_id=submission_id, row=row))


@bp.post("/volunteers/<number>/reveal")
@login_required
def reveal_volunteer(number):
    volunteer, _paths_seen = _visible_volunteer(number)
    if not _may_reveal_volunteer(volunteer):
        abort(403)
    source_id = volunteer.registered_by_submission_id or db.session.execute(
        select(ServiceRecord.submission_id).where(ServiceRecord.volunteer_id == volunteer.id)
        .order_by(ServiceRecord.id).limit(1)).scalar()
    submission = db.session.get(Submission, source_id) if source_id else None
    plain = reveal_number({"enc": volunteer.id_enc})
    if submission is None or plain is None:
        abort(404)
    return _reveal(submission, plain, url_for("volunteers.show", number=number),
                   url_for("volunteers.reveal_volunteer", number=number))


def init_pages(app):
    register_decision_panel("certify", certify_panel)
    app.register_blueprint(bp)

    @app.context_processor
    def volunteer_helpers():
        # The top bar links the volunteers' pages for whoever has units to look into.
        return {"sees_volunteers": lambda: current_user.is_authenticated and bool(_paths())}
