"""Server-rendered SVG charts (pygal), with no script: the numbers also go to a table beside each.

pygal embeds a ``<script>`` (its config) and links its tooltip JavaScript by default; ``js=[]`` drops
the link and ``without_scripts`` removes what is left, so the SVG is only shapes, text and its own
``<style>``. The SVGs are served from a route as ``image/svg+xml`` under a policy of their own that
allows nothing but those styles, and shown with ``<img>``, in which a browser never runs a script.
"""
import re
import pygal
from pygal.style import Style
from sqlalchemy import func, select

from ...extensions import db
from ...models import Submission, Unit
from ..periods import months_of

SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"
STYLE = Style(font_family="'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif", background="white",
              plot_background="white")


def without_scripts(svg):
    return SCRIPT.sub("", svg)


def _chart(kind, title, **options):
    return kind(js=[], disable_xml_declaration=True, style=STYLE, title=title, tooltip_fancy_mode=False,
                print_values=False, width=800, height=400, explicit_size=False, **options)


def render(chart):
    return without_scripts(chart.render(is_unicode=True))


def participation(table, activity_key):
    """Per district and month: share (%) of its units meeting the activity obligation."""
    months = [str(m) for m in table.months]
    series = []
    for rollup_district in table.districts:
        series.append((rollup_district, {m: [0, 0] for m in months}))
    index = {d.id: s for d, s in series}
    for unit, district, cells in table.rows:
        if district is None or district.id not in index:
            continue
        for month in months:
            cell = cells.get((activity_key, month))
            if cell is None:
                continue
            counts = index[district.id][month]
            counts[1] += 1
            counts[0] += cell.status == "met"
    rows = [(d, [round(100 * c[0] / c[1], 1) if c[1] else None for c in (s[m] for m in months)])
            for d, s in series]
    return months, rows


def line_svg(title, labels, rows):
    chart = _chart(pygal.Line, title, range=(0, 100), x_labels=labels, show_dots=True)
    for name, values in rows:
        chart.add(name, values)
    return render(chart)


def bar_svg(title, labels, rows, range_=None):
    chart = _chart(pygal.Bar, title, x_labels=labels, **({"range": range_} if range_ else {}))
    for name, values in rows:
        chart.add(name, values)
    return render(chart)


def pie_svg(title, rows):
    chart = _chart(pygal.Pie, title)
    for name, value in rows:
        chart.add(name, value)
    return render(chart)


def theme_counts(rules, paths, year):
    """Approved activity reports of ``year`` in the viewer's units, by theme (the ``campaign`` column)."""
    activity = next((o for o in rules.obligations if o.form == "activity_report"), None)
    if activity is None or not paths:
        return []
    rows = db.session.execute(
        select(Submission.campaign, func.count()).join(Unit, Unit.id == Submission.unit_id)
        .where(Submission.form_key == activity.form, Submission.state.in_(activity.met),
               Submission.period.in_([str(m) for m in months_of(year)]), Unit.in_any_subtree(paths))
        .group_by(Submission.campaign).order_by(func.count().desc(), Submission.campaign)).all()
    return [(theme, count) for theme, count in rows]


def unit_trend(rules, unit, year):
    """Per obligation and month of ``year``: how many of the unit's submissions are in a met state."""
    months = [str(m) for m in months_of(year)]
    counts = {o.key: dict.fromkeys(months, 0) for o in rules.obligations}
    for obligation in rules.obligations:
        rows = db.session.execute(select(Submission.period, func.count()).where(
            Submission.unit_id == unit.id, Submission.form_key == obligation.form,
            Submission.state.in_(obligation.met), Submission.period.in_(months)).group_by(Submission.period))
        for period, count in rows:
            counts[obligation.key][period] = count
    return months, counts
