"""/assessment/campaigns/: the year's plan for everyone with a role; edit, add and generate for the city office.

"The city office" is a person holding the office or administrator role at
the unit of depth 0 (the top of the tree), as for the form definitions.
"""
import re
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional as OptionalValue, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from . import plans
from .nodes import FIRST_YEAR, LAST_YEAR, REPORTING_KINDS, TOPICS, YearOutOfRange
from ...access import VIEW_ROLES, city_office_paths, grant_paths
from ...extensions import db
from ...labels import UNIT_KINDS
from ...models import Campaign, FormVersion, Unit
from ...org.scope import unit_choices, units_in_scope

bp = Blueprint("campaigns", __name__, url_prefix="/assessment/campaigns")

KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# "other" is the form's own choice for a theme outside the plan.
RESERVED_KEYS = {"other"}

TOPIC_LABELS = {
    "warmth": _l("Warmth and care"), "remembrance": _l("Civilized remembrance"),
    "exam_care": _l("Caring for exam-takers"), "environment": _l("Environment"),
    "elderly": _l("Caring for the elderly"), "other": _l("Other"),
}


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=63)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("Name (English)"), validators=[OptionalValue(), Length(max=100)])
    node_on = DateField(_l("Node date"), validators=[DataRequired()])
    window_start = DateField(_l("Window opens"), validators=[DataRequired()])
    window_end = DateField(_l("Window closes"), validators=[DataRequired()])
    theme = TextAreaField(_l("Theme"), validators=[OptionalValue(), Length(max=2000)])
    topics = Checkboxes(_l("Topics"), choices=[])
    unit_kinds = Checkboxes(_l("Kinds of unit expected"), choices=[])
    forms = Checkboxes(_l("Forms used"), choices=[])
    lead_unit_ids = SelectMultipleField(_l("Lead units"), coerce=int, choices=[])

    def __init__(self, *args, year, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.year, self.campaign = year, campaign

    def validate_key(self, field):
        if self.campaign is not None:
            return
        if not KEY.match(field.data or "") or field.data in RESERVED_KEYS:
            raise ValidationError(_("Lower-case letters, digits and “_”, starting with a letter (not “other”)."))
        taken = db.session.execute(select(Campaign.id).where(Campaign.year == self.year,
                                                             Campaign.key == field.data)).first()
        if taken:
            raise ValidationError(_("%(year)s already has a campaign “%(key)s”.", year=self.year, key=field.data))

    def validate_node_on(self, field):
        if field.data and field.data.year != self.year:
            raise ValidationError(_("The node must fall in %(year)s.", year=self.year))

    def validate_window_start(self, field):
        if field.data and self.node_on.data and field.data > self.node_on.data:
            raise ValidationError(_("The window must open on or before the node."))

    def validate_window_end(self, field):
        if field.data and self.window_start.data and field.data < self.window_start.data:
            raise ValidationError(_("The window cannot close before it opens."))
        if field.data and self.node_on.data and field.data < self.node_on.data:
            raise ValidationError(_("The window must close on or after the node."))


# --- access ------------------------------------------------------------------

def _office_paths():
    return city_office_paths(current_user)


def is_city_office():
    return bool(_office_paths())


def _require_office():
    paths = _office_paths()
    if not paths:
        abort(403)
    return paths


def _require_any_role():
    if not grant_paths(current_user, *VIEW_ROLES):
        abort(403)


def _year_arg():
    text = request.values.get("year", "")
    if not text:
        return date.today().year
    if not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        abort(404)
    return int(text)


# --- pages -------------------------------------------------------------------

def _choices(form, paths, campaign=None):
    form.topics.choices = [(t, TOPIC_LABELS[t]) for t in TOPICS]
    form.unit_kinds.choices = [(k, UNIT_KINDS[k]) for k in REPORTING_KINDS]
    keys = sorted(set(db.session.execute(select(FormVersion.key).distinct()).scalars())
                  | set(campaign.forms if campaign else []) | {"activity_report"})
    form.forms.choices = [(k, k) for k in keys]
    form.lead_unit_ids.choices = unit_choices(units_in_scope(paths, active_only=True))


def _apply(form, campaign):
    for name in ("name_zh", "name_en", "theme"):
        setattr(campaign, name, (getattr(form, name).data or "").strip())
    for name in ("node_on", "window_start", "window_end"):
        setattr(campaign, name, getattr(form, name).data)
    for name in ("topics", "unit_kinds", "forms", "lead_unit_ids"):
        setattr(campaign, name, list(getattr(form, name).data or []))
    campaign.updated_by_id = current_user.id


@bp.get("/")
@login_required
def index():
    _require_any_role()
    year = _year_arg()
    campaigns = plans.campaigns_of(year)
    leads = {}
    ids = {i for c in campaigns for i in c.lead_unit_ids or []}
    if ids:
        leads = {u.id: u for u in db.session.execute(select(Unit).where(Unit.id.in_(ids))).scalars()}
    return render_template("assessment/campaigns.html", year=year, campaigns=campaigns, leads=leads,
                           office=is_city_office(), topic_labels=TOPIC_LABELS, kind_labels=UNIT_KINDS,
                           first_year=FIRST_YEAR, last_year=LAST_YEAR)


@bp.post("/generate")
@login_required
def generate():
    _require_office()
    year = _year_arg()
    try:
        added = plans.generate(year, current_user)
    except YearOutOfRange:
        abort(404)
    db.session.commit()
    if added:
        flash(ngettext("%(count)s campaign added to the plan of %(year)s.",
                       "%(count)s campaigns added to the plan of %(year)s.", len(added), count=len(added), year=year),
              "success")
    else:
        flash(_("The plan of %(year)s already has every generated node.", year=year), "info")
    return redirect(url_for(".index", year=year))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    paths = _require_office()
    year = _year_arg()
    form = CampaignForm(year=year)
    if request.method == "GET":
        form.topics.data, form.unit_kinds.data, form.forms.data = [], list(REPORTING_KINDS), ["activity_report"]
    _choices(form, paths)
    if form.validate_on_submit():
        campaign = Campaign(year=year, key=form.key.data, source=plans.OFFICE, created_by_id=current_user.id)
        _apply(form, campaign)
        db.session.add(campaign)
        db.session.commit()
        flash(_("Campaign “%(name)s” added.", name=campaign.name_zh), "success")
        return redirect(url_for(".index", year=year))
    return render_template("assessment/campaign_form.html", form=form, year=year, campaign=None)


@bp.route("/<int:campaign_id>", methods=["GET", "POST"])
@login_required
def edit(campaign_id):
    paths = _require_office()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    form = CampaignForm(obj=campaign if request.method == "GET" else None, year=campaign.year, campaign=campaign)
    form.key.data = campaign.key
    _choices(form, paths, campaign)
    if form.validate_on_submit():
        _apply(form, campaign)
        db.session.commit()
        flash(_("Campaign “%(name)s” saved.", name=campaign.name_zh), "success")
        return redirect(url_for(".index", year=campaign.year))
    return render_template("assessment/campaign_form.html", form=form, year=campaign.year, campaign=campaign)
