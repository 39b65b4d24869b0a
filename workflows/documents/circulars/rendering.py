"""A circular as HTML and PDF: its kind's template, rendered in a sandbox from the snapshot and the prose.

The templates are data the office may change, and everything they show — unit names, titles, the
clerk's prose — was typed by people: they run in Jinja's immutable sandbox with autoescaping, and
read only the plain values handed to them (no request, no database, no ``url_for``). WeasyPrint then
renders with the app's fetcher (its own static files and data: URIs only), so nothing in a fact or
a sentence can make the renderer reach the network. The same snapshot, prose and number give the
same bytes.
"""
import base64
from datetime import date
from pathlib import Path

from flask import current_app
from jinja2 import FileSystemLoader
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ... import pdf, pdf_parts
from ...assessment.obligations import charts
from ...volunteers.certificates import qr_data_uri
from . import parts
from .kinds import kind_of

_environments = {}


def environment(app):
    """One sandboxed environment per app (its loader reads the app's templates folder)."""
    env = _environments.get(id(app))
    if env is None:
        folder = Path(app.root_path) / app.template_folder
        env = ImmutableSandboxedEnvironment(loader=FileSystemLoader(str(folder)), autoescape=True,
                                            trim_blocks=True, lstrip_blocks=True)
        env.filters["paragraphs"] = paragraphs
        _environments[id(app)] = env
    return env


def paragraphs(text):
    """The clerk's text as paragraphs (one per line; blank lines dropped)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _svg_uri(svg):
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def charts_of(facts):
    """The charts a kind embeds, drawn from the snapshot (SVG, as data: URIs)."""
    districts = [d for d in facts.get("districts", []) if d["name"]]
    if not districts:
        return {}
    labels = [d["name"] for d in districts]
    activity = facts["obligations"][0]["key"] if facts.get("obligations") else None
    rows = [("参与率（%）", [d["participation"] for d in districts])]
    if activity:
        rows.append(("达标率（%）", [d["met"].get(activity) for d in districts]))
    return {"participation": _svg_uri(charts.bar_svg("各区县参与率与达标率", labels, rows, range_=(0, 100)))}


def context(circular_kind, facts, answers, office_name, doc_number=None, issued_on=None, public_url=None,
            draft=False, part="whole", annex_rows=None, annex_offset=0, pages=0):
    kind = kind_of(circular_kind)
    issued_on = issued_on or date.today()
    units = facts.get("units", [])
    annex_rows = units if annex_rows is None else annex_rows
    # A part that starts inside a district heads its first rows "（续）".
    continues = bool(annex_offset and annex_rows and units[annex_offset - 1]["district"] == annex_rows[0]["district"])
    return {
        "part": part, "annex_rows": annex_rows, "annex_continues": continues,
        "annex_offset": annex_offset, "pages": pages, "page_numbers": part != "rest",
        "kind": kind.key, "facts": facts, "prose": answers, "title": answers.get("title") or kind.title(facts),
        "addressee": answers.get("addressee"), "organ": office_name, "organ_suffix": "",
        "signature": office_name, "doc_number": doc_number, "issued_on": issued_on, "draft": draft,
        "qr": qr_data_uri(public_url) if public_url else None, "public_url": public_url,
        "charts": charts_of(facts), "fonts": pdf.font_context(current_app), "lang": "zh_CN",
        "attachments": ["全市各单位月度报送和积分情况表"] if kind.key == "monthly" else [],
    }


def render_html(circular_kind, facts, answers, office_name, **options):
    env = environment(current_app)
    values = context(circular_kind, facts, answers, office_name, **options)
    return env.get_template(kind_of(circular_kind).template).render(**values)


def render_pdf(circular_kind, facts, answers, office_name, target, font_config=None, processes=1, in_child=False,
               **options):
    """Write the PDF to ``target``; returns the page count.

    With ``processes`` > 1 a long annex is rendered in parts on that many processes at once and merged
    (``parts.render``); the document is the same either way: the same pages, headers and numbers. With
    ``in_child`` (a job) a long annex in one piece is rendered by a child process, the same bytes, so
    its memory is never the job's process's.
    """
    rows = facts.get("units", [])
    long = kind_of(circular_kind).key == "monthly" and len(rows) >= parts.MIN_ROWS
    if processes > 1 and long:
        return parts.render(lambda **more: render_html(circular_kind, facts, answers, office_name, **options, **more),
                            rows, target, processes)
    html = render_html(circular_kind, facts, answers, office_name, **options)
    if in_child and long:
        return pdf_parts.render_one(html, target, pdf_parts.start_method())
    return pdf.render_pdf(html, target, font_config=font_config)
