"""The office's pages: the list of circulars, composing one, refreshing its facts, previewing it.

A circular's own page is its submission's page (prose, actions, history), with the panel below on
top: kind, period, the facts it was drafted from, the number and PDF once signed, and who has
opened it. Who may: compose — OFFICE at the issuing office; see — any role the engine lets see the
submission (the office's reviewers and signers too); refresh — whoever may edit the draft.
"""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Regexp

from ...access import can_view, grant_paths
from ...engine.perform import workflow_of
from ...extensions import db
from ...filling.submissions import can_edit, language

from ...jobs import QueueUnavailable, enqueue
from ...models import Circular, CircularReceipt, Role, Submission, Unit, UnitKind
from . import composing, render_jobs
from .kinds import KINDS

bp = Blueprint("circulars", __name__, url_prefix="/documents/circulars")

STAFF_ROLES = (Role.OFFICE, Role.REVIEWER, Role.SIGNER)


class ComposeForm(FlaskForm):
    office = SelectField(_l("Issuing office"), coerce=int, choices=[], validate_choice=False)
    kind = RadioField(_l("Kind"), choices=[], validators=[DataRequired()])
    period = StringField(_l("Month"), validators=[DataRequired(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",
                                                                            message=_l("Give the month as YYYY-MM."))])


def issuing_offices(user):
    paths = grant_paths(user, Role.OFFICE)
    if not paths:
        return []
    return db.session.execute(select(Unit).where(Unit.in_any_subtree(paths), Unit.kind == UnitKind.OFFICE.value,
                                                 Unit.active.is_(True)).order_by(Unit.path)).scalars().all()


def load(circular_id, editing=False):
    circular = db.session.get(Circular, circular_id)
    if circular is None or not can_view(current_user, circular.submission):
        abort(404)
    if editing and not can_edit(current_user, circular.submission):
        abort(403)
    return circular


@bp.app_template_global("sees_circulars")
def sees_circulars():
    return current_user.is_authenticated and bool(grant_paths(current_user, *STAFF_ROLES))


@bp.get("/")
@login_required
def index():
    paths = grant_paths(current_user, *STAFF_ROLES)
    if not paths:
        abort(403)
    rows = db.session.execute(
        select(Circular, Submission).join(Submission, Submission.id == Circular.submission_id)
        .join(Unit, Unit.id == Circular.office_unit_id).where(Unit.in_any_subtree(paths))
        .order_by(Circular.id.desc()).limit(200)).all()
    states = {}
    for _circular, submission in rows:
        workflow = workflow_of(submission)
        states[submission.id] = workflow.state(submission.state).label.get(language()) if workflow else submission.state
    return render_template("circulars/index.html", rows=rows, states=states, kinds=KINDS,
                           may_compose=bool(issuing_offices(current_user)))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    offices = issuing_offices(current_user)
    if not offices:
        abort(403)
    form = ComposeForm()
    form.office.choices = [(o.id, o.name) for o in offices]
    form.kind.choices = [(k.key, str(k.label)) for k in KINDS.values()]
    if request.method == "GET":
        form.period.data = form.period.data or _last_month()
        form.kind.data = form.kind.data or "monthly"
    if form.validate_on_submit():
        office = next((o for o in offices if o.id == form.office.data), None)
        if office is None:
            form.office.errors = [_("You can only compose circulars of an office where you hold the office role.")]
        else:
            circular = composing.compose(office, form.kind.data, form.period.data, current_user)
            db.session.commit()
            flash(_("The draft is composed from the facts of %(period)s; edit its text, preview it, then send it "
                    "for checking.", period=circular.period), "success")
            return redirect(url_for("submissions.show", submission_id=circular.submission_id))
    return render_template("circulars/new.html", form=form), (422 if form.errors else 200)


def _last_month():
    today = date.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


@bp.post("/<int:circular_id>/refresh")
@login_required
def refresh(circular_id):
    circular = load(circular_id, editing=True)
    changed = composing.refresh(circular)
    db.session.commit()
    if not changed:
        flash(_("The facts were taken again: nothing has changed since the draft was composed."), "success")
    else:
        flash(_("The facts were taken again; what changed:") + " " + "；".join(describe(c) for c in changed[:20])
              + ("…" if len(changed) > 20 else ""), "success")
    return redirect(url_for("submissions.show", submission_id=circular.submission_id))


def describe(change):
    what, name, key, values = change
    if what == "total":
        return _("%(what)s %(before)s → %(after)s", what=TOTALS.get(name, name), before=key, after=values)
    if what == "unit":
        before, after = values
        return _("%(unit)s: %(what)s %(before)s → %(after)s", unit=name, what=UNIT_FIGURES.get(key, key),
                 before=_plain(before), after=_plain(after))
    if what == "unit_added":
        return _("%(unit)s is now included", unit=name)
    if what == "unit_removed":
        return _("%(unit)s is no longer included", unit=name)
    return _("the list of %(what)s changed", what=LISTS.get(name, name))


def _plain(value):
    if isinstance(value, dict):
        return "、".join(f"{k}:{v}" for k, v in sorted(value.items())) or "—"
    return "—" if value is None else value


TOTALS = {"units": _l("units"), "reports": _l("reports"), "hours": _l("hours"), "missed": _l("units missing an obligation")}
UNIT_FIGURES = {"reports": _l("reports"), "hours": _l("hours"), "points": _l("points"), "status": _l("obligations")}
LISTS = {"top_ten": _l("the monthly top ten"), "exemplary": _l("exemplary activities"),
         "covered": _l("reports covered")}


@bp.post("/<int:circular_id>/preview")
@login_required
def preview(circular_id):
    circular = load(circular_id)
    try:
        run = enqueue("circular_preview", {"circular_id": circular.id}, requested_by=current_user,
                      unit=circular.office)
    except QueueUnavailable:
        db.session.rollback()
        flash(_("The job queue cannot be reached right now; nothing was started. Please try again later."), "error")
        return redirect(url_for("submissions.show", submission_id=circular.submission_id))
    db.session.commit()
    return redirect(url_for("home.job", run_id=run.id))


@bp.get("/<int:circular_id>/pdf")
@login_required
def signed_pdf(circular_id):
    circular = load(circular_id)
    if not circular.pdf_name:
        abort(404)
    return send_file(render_jobs.path_of(circular), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{circular.doc_number}.pdf")


def panel(submission):
    circular = composing.circular_for(submission.id)
    if circular is None:
        return None
    receipts = None
    if circular.published_at is not None:
        receipts = db.session.execute(select(func.count(), func.count(CircularReceipt.opened_at)).where(
            CircularReceipt.circular_id == circular.id)).one()
    return Markup(render_template("circulars/panel.html", circular=circular, kind=KINDS[circular.kind],
                                  editable=can_edit(current_user, submission), receipts=receipts))
