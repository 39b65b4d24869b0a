"""Score pages: the table of units for a month or a year, and one unit's points explained line by line.

Offices (reviewer, office or admin roles) see the units under their grants;
anyone with a role at a unit sees that unit's own explanation. Scores are
read from the stored table; "recompute" (city office) writes it anew.
"""
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import city_office_paths, grant_paths
from ..extensions import db
from ..models import Role, ScoreLine, ScoringVersion, Submission, Unit, UnitScore
from ..models.units import utcnow
from .obligations import rules as obligation_rules
from .periods import Month, months_of
from .scoring_rules import load_scoring
from .scores import current_version, recompute, year_table

bp = Blueprint("scores", __name__, url_prefix="/assessment/scores")
OFFICE_ROLES = (Role.OFFICE, Role.REVIEWER, Role.ADMIN)


def _year():
    year = request.args.get("year", type=int) or utcnow().year
    if not 1950 <= year <= 2100:
        abort(404)
    return year


def _version():
    wanted = request.args.get("version", type=int)
    if wanted is None:
        return current_version()
    row = db.session.execute(select(ScoringVersion).where(ScoringVersion.version == wanted)).scalars().first()
    if row is None:
        abort(404)
    return row


def _within(unit, paths):
    return any(unit.path.startswith(p) for p in paths)


def _may_recompute():
    return bool(city_office_paths(current_user))


@bp.get("/")
@login_required
def index():
    paths = grant_paths(current_user, *OFFICE_ROLES)
    if not paths:
        abort(403)
    year, version = _year(), _version()
    units = {u.id: u for u in db.session.execute(select(Unit).where(Unit.in_any_subtree(paths))).scalars()}
    table = year_table(year, version, unit_ids=units)
    month = request.args.get("month", type=int)
    monthly = {}
    if month and 1 <= month <= 12:
        monthly = dict(db.session.execute(select(UnitScore.unit_id, UnitScore.points).where(
            UnitScore.scoring_version_id == version.id, UnitScore.month == str(Month(year, month)))).all())
    scoring = load_scoring(version.source)
    versions = db.session.execute(select(ScoringVersion).order_by(ScoringVersion.version)).scalars().all()
    return render_template("assessment/scores.html", table=table, units=units, year=year, month=month,
                           monthly=monthly, scoring=scoring, version=version, versions=versions,
                           may_recompute=_may_recompute())


@bp.post("/recompute")
@login_required
def recompute_year():
    if not _may_recompute():
        abort(403)
    year = request.form.get("year", type=int)
    if year is None or not 1950 <= year <= 2100:
        abort(400)
    written = recompute(months_of(year))
    db.session.commit()
    flash(_("Scores of %(year)d recomputed: %(n)d unit-months.", year=year, n=written["scores"]), "success")
    return redirect(url_for("scores.index", year=year))


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id):
    unit = db.session.get(Unit, unit_id)
    if unit is None or not _within(unit, grant_paths(current_user, *Role)):
        abort(404)
    year, version = _year(), _version()
    scoring = load_scoring(version.source)
    months = [str(m) for m in months_of(year)]
    totals = dict(db.session.execute(select(UnitScore.month, UnitScore.points).where(
        UnitScore.scoring_version_id == version.id, UnitScore.unit_id == unit.id,
        UnitScore.month.in_(months))).all())
    lines = db.session.execute(select(ScoreLine).where(
        ScoreLine.scoring_version_id == version.id, ScoreLine.unit_id == unit.id, ScoreLine.month.in_(months))
        .order_by(ScoreLine.month, ScoreLine.position)).scalars().all()
    titles = dict(db.session.execute(select(Submission.id, Submission.title).where(
        Submission.id.in_({l.source_id for l in lines if l.source_id}))).all()) if lines else {}
    by_month = {m: [l for l in lines if l.month == m] for m in months}
    labels = {r.key: r.label for r in scoring.rules}
    standing = next((s for s in year_table(year, version, unit_ids=[unit.id])), None)
    return render_template("assessment/unit_score.html", unit=unit, year=year, months=months, totals=totals,
                           by_month=by_month, titles=titles, labels=labels, version=version, scoring=scoring,
                           standing=standing, year_total=sum(totals.values(), Decimal("0")),
                           month_ends={str(m): m.last.isoformat() for m in months_of(year)},
                           obligation_labels=obligation_labels())


def obligation_labels():
    """What each obligation is called on score lines: its label in the rules in force (read once a page)."""
    language = get_locale().language
    return {o.key: o.label.get(language) for o in obligation_rules.current().obligations}
