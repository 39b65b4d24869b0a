"""The compliance page and export, the chart page and one unit's page (offices; a unit sees its own page).

Every query is restricted by the viewer's grant paths; a filler gets 403 on the office pages and a
unit outside the viewer's units is a 404.
"""
import io

from flask import Blueprint, abort, make_response, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from openpyxl import Workbook

from ...access import VIEW_ROLES, grant_paths, has_role_at
from ...extensions import db
from ...labels import UNIT_KINDS
from ...models import Unit
from ...models.units import utcnow
from ...spreadsheets import lay_out, sheet_title, text_cell, text_row, text_width
from . import charts, compliance
from .evaluation import STATUSES, gc_paused
from .evaluation_sql import _deadline

bp = Blueprint("compliance", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_LABELS = {"met": _l("Met"), "missing": _l("Missing"), "late": _l("Late"), "pending": _l("Pending review")}
CHARTS = ("participation", "obligations", "themes")


def _office_or_403():
    paths = compliance.office_paths(current_user)
    if not paths:
        abort(403)
    return paths


def _filters():
    """Filters from the query string; a malformed value is an error beside its field, the rest still applies."""
    errors = {}
    this_year = utcnow().year

    def number(name, low, high):
        raw = (request.args.get(name) or "").strip()
        if not raw:
            return None
        if raw.isdigit() and low <= int(raw) <= high:
            return int(raw)
        errors[name] = True
        return None

    year = number("year", 2000, 2100)
    if "year" in errors:
        errors["year"] = _("Give the year as four digits, e.g. 2017.")
    month = number("month", 1, 12)
    if "month" in errors:
        errors["month"] = _("Choose a month from 1 to 12.")
    district = number("district", 1, 2 ** 62)
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        errors["status"] = _("Unknown status.")
        status = None
    kind = request.args.get("kind") or None
    if kind is not None and kind not in UNIT_KINDS:
        errors["kind"] = _("Unknown unit kind.")
        kind = None
    page = number("page", 1, 100000) or 1
    return compliance.Filters(year=year or this_year, month=month, district=district, status=status, kind=kind,
                              page=page), errors


def _label(text):
    return text.get(get_locale().language) if text is not None else ""


@bp.app_context_processor
def _nav():
    return {"sees_compliance": lambda: current_user.is_authenticated and bool(compliance.office_paths(current_user))}


@bp.get("/assessment/compliance")
@login_required
def index():
    _office_or_403()
    filters, errors = _filters()
    table = compliance.build(current_user, filters)
    args = {k: v for k, v in request.args.items() if k != "page"}
    # A page holds over a thousand cells: everything they repeat is worked out once here.
    periods = [str(m) for m in table.months]
    obligations = table.rules.obligations
    due_texts = {}
    for obligation in obligations:
        for month, period in zip(table.months, periods):
            due_texts[(obligation.key, period)] = _("due %(day)s", day=_deadline(month, obligation).strftime("%m-%d"))
    with gc_paused():   # over ten thousand small strings; see evaluation.gc_paused
        return render_template(
            "assessment/compliance.html", table=table, filters=filters, errors=errors, statuses=STATUSES,
            status_labels=STATUS_LABELS, kinds=table.rules.schema.unit_kinds, kind_labels=UNIT_KINDS, label=_label,
            args=args, typed=request.args, periods=periods, obligation_keys=[o.key for o in obligations],
            obligation_labels={o.key: _label(o.label) for o in obligations},
            labels={k: str(v) for k, v in STATUS_LABELS.items()},
            kinds_text={k: str(v) for k, v in UNIT_KINDS.items()}, due_texts=due_texts,
            submission_url=url_for("submissions.show", submission_id=0)[:-1],
            unit_url=url_for("compliance.unit_page", unit_id=0)[:-1])


@bp.get("/assessment/compliance.xlsx")
@login_required
def export():
    _office_or_403()
    filters, _errors = _filters()
    table = compliance.build(current_user, filters, paginate=False)
    response = make_response(workbook(table))
    response.headers["Content-Type"] = XLSX
    response.headers["Content-Disposition"] = f'attachment; filename="compliance-{filters.year}.xlsx"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def workbook(table):
    """One row per unit: code, name, district, kind, then a status per month and obligation."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title(_("Compliance") + f" {table.filters.year}"))
    headers = [_("Code"), _("Unit"), _("District"), _("Kind")]
    columns = [(o, str(m)) for m in table.months for o in table.rules.obligations]
    headers += [f"{period} {_label(o.label)}" for o, period in columns]
    # The headings and the unit's four columns stay in view while the months scroll by.
    lay_out(sheet, [12, text_width([unit.name for unit, _d, _c in table.rows], least=20), 16, 12]
            + [text_width([h], least=12, most=30) for h in headers[4:]], header_rows=1, fixed_columns=4)
    sheet.append([text_cell(sheet, h) for h in headers])
    for unit, district, cells in table.rows:
        values = [unit.code, unit.name, district.name if district else "", str(UNIT_KINDS.get(unit.kind, unit.kind))]
        for obligation, period in columns:
            cell = cells.get((obligation.key, period))
            values.append(str(STATUS_LABELS[cell.status]) + f" {cell.count}/{cell.needed}" if cell else "—")
        sheet.append(text_row(sheet, values))
    totals = book.create_sheet(sheet_title(_("By district")))
    total_headers = [_("District"), _("Units")] + [f"{_label(o.label)} {_('met share')} %"
                                                    for o in table.rules.obligations]
    lay_out(totals, [20, 8] + [text_width([h], least=12, most=30) for h in total_headers[2:]])
    totals.append([text_cell(totals, h) for h in total_headers])
    for rollup in table.rollups:
        totals.append(text_row(totals, [rollup.district.name if rollup.district else _("Other"), rollup.units] + [
            rollup.share(o.key) for o in table.rules.obligations]))
    notes = book.create_sheet(sheet_title(_("Rules")))
    notes.append(text_row(notes, [table.rules.key, table.rules.version, table.rules.sha256]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- charts ---------------------------------------------------------------------------------------------------

def chart_data(filters):
    """Every chart's numbers: (title, kind, labels, rows) by name, for the office's units."""
    paths = _office_or_403()
    table = compliance.build(current_user, compliance.Filters(year=filters.year, district=filters.district,
                                                              kind=filters.kind), paginate=False)
    rules = table.rules
    data = {}
    activity = next((o for o in rules.obligations if o.form == "activity_report"), rules.obligations[0])
    months, rows = charts.participation(table, activity.key)
    data["participation"] = (_("Share of units meeting the activity obligation, by district and month, per cent"),
                             "line", months, [(d.name, values) for d, values in rows])
    labels = [r.district.name if r.district else _("Other") for r in table.rollups]
    data["obligations"] = (_("Obligations met in the year, by district, per cent"), "bar", labels,
                           [(_label(o.label), [r.share(o.key) for r in table.rollups]) for o in rules.obligations])
    data["themes"] = (_("Approved activity reports of the year by theme"), "pie", None,
                      [(_theme(t), n) for t, n in charts.theme_counts(rules, paths, filters.year)])
    return data


def _theme(value):
    from ...models import FormVersion
    from sqlalchemy import select
    source = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report",
                                                          FormVersion.status == "published")
                                .order_by(FormVersion.version.desc()).limit(1)).scalar()
    labels = {}
    if source is not None:
        for item in source.spec.schema.choices.get("themes", []):
            labels[item.value] = item.label
    label = labels.get(value)
    return _label(label) if label is not None else (value or _("Other"))


def svg_response(svg):
    response = make_response(svg)
    response.headers["Content-Type"] = "image/svg+xml; charset=utf-8"
    # The SVG's own <style> and nothing else: no script, no other source.
    response.headers["Content-Security-Policy"] = charts.SVG_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response


def draw(title, kind, labels, rows):
    if kind == "line":
        return charts.line_svg(title, labels, rows)
    if kind == "bar":
        return charts.bar_svg(title, labels, rows, range_=(0, 100))
    return charts.pie_svg(title, rows)


@bp.get("/assessment/charts")
@login_required
def charts_page():
    _office_or_403()
    filters, errors = _filters()
    data = chart_data(filters)
    return render_template("assessment/charts.html", data=data, names=CHARTS, filters=filters, errors=errors,
                           typed=request.args)


@bp.get("/assessment/charts/<name>.svg")
@login_required
def chart_svg(name):
    if name not in CHARTS:
        abort(404)
    _office_or_403()
    filters, _errors = _filters()
    return svg_response(draw(*chart_data(filters)[name]))


# --- one unit ---------------------------------------------------------------------------------------------------

def _unit_or_404(unit_id):
    unit = db.session.get(Unit, unit_id)
    if unit is None or not any(has_role_at(current_user, role, unit) for role in VIEW_ROLES):
        abort(404)
    return unit


def unit_data(unit, year):
    from . import rules as rules_module
    rules = rules_module.current()
    months, counts = charts.unit_trend(rules, unit, year)
    return rules, months, counts


@bp.get("/assessment/units/<int:unit_id>")
@login_required
def unit_page(unit_id):
    unit = _unit_or_404(unit_id)
    filters, errors = _filters()
    rules, months, counts = unit_data(unit, filters.year)
    from .evaluation import evaluate_months
    from ..periods import months_of
    cells = evaluate_months(months_of(filters.year), [(unit.id, unit.kind)], rules=rules, unit_ids=[unit.id])
    return render_template("assessment/unit.html", unit=unit, rules=rules, months=months, counts=counts,
                           cells=cells, filters=filters, errors=errors, status_labels=STATUS_LABELS,
                           label=_label, typed=request.args,
                           is_office=bool(grant_paths(current_user, *compliance.OFFICE_ROLES)))


@bp.get("/assessment/units/<int:unit_id>/trend.svg")
@login_required
def unit_trend_svg(unit_id):
    unit = _unit_or_404(unit_id)
    filters, _errors = _filters()
    rules, months, counts = unit_data(unit, filters.year)
    rows = [(_label(o.label), [counts[o.key][m] for m in months]) for o in rules.obligations]
    return svg_response(charts.bar_svg(_("%(unit)s: counted submissions per month", unit=unit.name),
                                       [m[5:] for m in months], rows))


def chart_url(name, filters):
    args = {"year": filters.year}
    if filters.district:
        args["district"] = filters.district
    if filters.kind:
        args["kind"] = filters.kind
    return url_for("compliance.chart_svg", name=name, **args)


@bp.app_context_processor
def _helpers():
    return {"chart_url": chart_url}
