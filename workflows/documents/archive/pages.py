"""The archive page: archived reports by year, campaign, district, unit, state and title; the package request.

Only people with the office or administrator role see it, each over their
own subtrees (403 for anyone else); a report outside them is never listed,
and its page stays a 404 for them as before.
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField

from . import selection
from .package import JOB_KIND, TooMany, request_package
from ...extensions import db
from ...jobs import QueueUnavailable
from ...models import JobRun
from ...org.scope import unit_choices

bp = Blueprint("archive", __name__, url_prefix="/documents/archive")
MAX_ID = 2 ** 62


class PackageForm(FlaskForm):
    """The filters the package is built for; the page posts the ones it shows (or a district and a year)."""
    year = HiddenField()
    campaign = HiddenField()
    district = HiddenField()
    unit = HiddenField()
    state = HiddenField()
    q = HiddenField()


def _reach():
    paths = selection.archive_paths(current_user)
    if not paths:
        abort(403)
    return paths


@bp.app_context_processor
def _nav():
    return {"sees_archive": lambda: current_user.is_authenticated and bool(selection.archive_paths(current_user))}


@bp.get("/")
@login_required
def browse():
    paths = _reach()
    filters, errors = selection.Filters.from_values(request.args)
    return _page(paths, filters, errors)


def _page(paths, filters, errors, status=200):
    lang = str(get_locale())
    districts = selection.district_units(paths)
    before = request.args.get("before", type=int)
    before = before if before is not None and 0 < before < MAX_ID else None
    rows, next_before = selection.page(paths, filters, before, districts)
    total = selection.count(paths, filters, districts)
    recent = db.session.execute(select(JobRun).where(JobRun.requested_by_id == current_user.id,
                                                     JobRun.kind == JOB_KIND)
                                .order_by(JobRun.id.desc()).limit(5)).scalars().all()
    return render_template(
        "documents/archive.html", rows=rows, total=total, next_before=next_before, filters=filters,
        errors=errors, typed=request.values, districts=unit_choices(districts) if districts else [],
        campaigns=selection.campaign_labels(lang), states=selection.state_labels(lang),
        args=filters.as_args(), recent=recent, first_page=before is not None), status


@bp.post("/package")
@login_required
def package():
    paths = _reach()
    form = PackageForm()
    filters, errors = selection.Filters.from_values(request.form)
    if form.validate_on_submit() and not errors:
        if filters.district is not None and filters.district not in {d.id for d in selection.district_units(paths)}:
            errors["district"] = _("Choose a district from the list.")
        else:
            try:
                run = request_package(current_user, paths, filters, str(get_locale()))
            except TooMany as too_many:
                flash(_("These filters select %(n)d reports; a package holds at most %(max)d. Choose a year or a "
                        "district.", n=too_many.args[0], max=too_many.args[1]), "error")
                return redirect(url_for(".browse", **filters.as_args()))
            except QueueUnavailable:
                db.session.rollback()
                flash(_("The job queue cannot be reached right now; nothing was started. Please try again later."),
                      "error")
                return redirect(url_for(".browse", **filters.as_args()))
            if run is None:
                flash(_("No archived report matches these filters; nothing was started."), "error")
                return redirect(url_for(".browse", **filters.as_args()))
            db.session.commit()
            return redirect(url_for("home.job", run_id=run.id))
    return _page(paths, filters, errors, status=422)
