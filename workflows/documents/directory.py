"""The unit directory (单位名录) of an office's subtree, as XLSX or PDF, built by a job."""
import re
import zipfile
from datetime import date, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import force_locale, get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from wtforms import RadioField, SelectField

from .. import pdf, pdf_parts
from ..access import grant_paths
from ..org.scope import tree_order, unit_choices
from ..extensions import db
from ..jobs import QueueUnavailable, enqueue, job_kind
from ..labels import UNIT_KINDS
from ..models import JobRun, Role, Unit, UnitKind
from ..spreadsheets import lay_out, sheet_title, text_cell, text_row, text_width
from . import directory_pages

bp = Blueprint("directory", __name__, url_prefix="/documents/directory")

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf"}
# From this many units the PDF is rendered in child processes (in parts when PDF_RENDER_PROCESSES > 1),
# never in the process that runs the job; below it, starting them costs more than it saves.
MIN_ROWS = 300
# A process laying out this many rows peaks at about 440 MB (5,000: 730 MB; 10,000: 1.2 GB), so a
# longer directory is cut into more parts than processes, rendered PDF_RENDER_PROCESSES at a time.
CHUNK_ROWS = 2000
# The opening sentence's own text, the date and the count, in ems (directory_pages.width).
OPENING_EMS = 26


def directory_rows(root):
    """The active units of ``root``'s subtree in tree order, with their parent's name."""
    units = db.session.execute(
        select(Unit).where(Unit.in_subtree(root.path), Unit.active.is_(True))).scalars().all()
    names = {u.id: u.name for u in units}
    return [{"code": u.code, "name": u.name, "kind_label": str(UNIT_KINDS.get(u.kind, u.kind)),
             "parent_name": names.get(u.parent_id, ""), "depth": u.depth - root.depth}
            for u in tree_order(units)]


def page_starts(root, rows, lang):
    """Every page's first row (directory_pages): the same pages however the directory is rendered."""
    with force_locale(lang):
        title = _("%(name)s unit directory", name=root.name)
    opening = directory_pages.width(root.name) + OPENING_EMS + 0.6 * len(str(len(rows)))
    return directory_pages.page_starts(rows, directory_pages.first_table_top(root.name, title, opening))


def directory_html(root, rows, as_of, lang, starts=None, part="whole", chunk=None, offset=0, pages=0):
    """The directory's HTML; ``part``, ``chunk`` (its rows, from ``offset``) and ``pages`` as in
    pdf_parts.render, ``starts`` from page_starts (worked out when not given)."""
    starts = page_starts(root, rows, lang) if starts is None else starts
    chunk = rows if chunk is None else chunk
    breaks = {start - offset for start in starts if offset < start < offset + len(chunk)}
    with force_locale(lang):
        return render_template(
            "pdf/directory.html", units=chunk, offset=offset, breaks=breaks, total=len(rows), part=part,
            signed=part != "numbers" and offset + len(chunk) == len(rows),
            pages=pages, page_numbers=part != "rest", widths=directory_pages.WIDTHS, root_name=root.name,
            organ=root.name, title=_("%(name)s unit directory", name=root.name), issued_on=as_of,
            signature=root.name, doc_number=None, addressee=None, fonts=pdf.font_context(current_app),
            lang=lang)


def render_directory(root, rows, as_of, lang, target, processes=1, method=None, peaks=None):
    """The directory as PDF in ``target``; returns the page count.

    A long one renders in child processes (``method``: pdf_parts.start_method() by default) — in parts on
    ``processes`` at once when more than one — and its memory is theirs; ``peaks`` gets theirs in MB.
    """
    starts = page_starts(root, rows, lang)
    if len(rows) < MIN_ROWS:
        return pdf.render_pdf(directory_html(root, rows, as_of, lang, starts), target)
    method = method or pdf_parts.start_method()
    if processes < 2:
        return pdf_parts.render_one(directory_html(root, rows, as_of, lang, starts), target, method, peaks)
    count = max(processes, -(-len(rows) // CHUNK_ROWS))
    chunks = directory_pages.chunks(rows, starts, count)
    everything = rows

    def html_for(part, rows, offset, pages):
        return directory_html(root, everything, as_of, lang, starts, part=part, chunk=rows, offset=offset,
                              pages=pages)

    return pdf_parts.render(html_for, chunks, target, processes, method, peaks)


@job_kind("unit_directory")
def build_directory(ctx, unit_id, fmt, as_of, lang):
    root = db.session.get(Unit, unit_id)
    as_of = date.fromisoformat(as_of)
    rows = directory_rows(root)
    ctx.progress(10)
    stem = f"{root.code}-directory-{as_of.isoformat()}"
    target = ctx.result_file(f"{stem}.{fmt}", FORMATS[fmt])
    if fmt == "xlsx":
        write_xlsx(target, root, rows, as_of, lang)
    else:
        ctx.progress(30)
        render_directory(root, rows, as_of, lang, target, current_app.config["PDF_RENDER_PROCESSES"])


def write_xlsx(target, root, rows, as_of, lang):
    with force_locale(lang):
        headers = [_("No."), _("Code"), _("Unit"), _("Kind"), _("Parent unit")]
        title = _("%(name)s unit directory", name=root.name)
    book = Workbook(write_only=True)
    book.properties.created = datetime(as_of.year, as_of.month, as_of.day)
    sheet = book.create_sheet(sheet_title(title))
    # The title, the date and the headings stay in view.
    lay_out(sheet, [8, 18, text_width([r["name"] for r in rows] + [headers[2]], least=24) + 2 * _deepest(rows),
                    16, text_width([r["parent_name"] for r in rows], least=20)], header_rows=3)
    # Unit names are typed by people: every text cell goes through text_row, so none becomes a formula.
    sheet.append(text_row(sheet, [title]))
    sheet.append(text_row(sheet, [as_of.isoformat()]))
    bold = Font(bold=True)
    sheet.append([text_cell(sheet, text, font=bold) for text in headers])
    for number, row in enumerate(rows, start=1):
        # Depth as the cell's indent, not full-width spaces: the name stays the name when sorted or copied.
        name = text_cell(sheet, row["name"], alignment=Alignment(indent=min(row["depth"], 15)))
        sheet.append(text_row(sheet, [number, row["code"], name, row["kind_label"], row["parent_name"]]))
    book.save(target)
    _settle(target, as_of)


def _deepest(rows):
    return min(max((r["depth"] for r in rows), default=0), 15)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _settle(path, as_of):
    """openpyxl stamps the file and each zip entry with the time of saving; the same input must give
    the same bytes, so both become the directory's date."""
    stamp = (as_of.year, as_of.month, as_of.day, 0, 0, 0)
    moment = f"{as_of.isoformat()}T00:00:00Z".encode()
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    entries = [(name, _MODIFIED.sub(rb"\g<1>" + moment + rb"\g<2>", data) if name == "docProps/core.xml" else data)
               for name, data in entries]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            target.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)


class DirectoryForm(FlaskForm):
    unit_id = SelectField(_l("Office"), coerce=int, choices=[], validate_choice=False)
    fmt = RadioField(_l("Format"), choices=[("pdf", "PDF"), ("xlsx", "Excel (XLSX)")], default="pdf")


def office_choices():
    paths = grant_paths(current_user, Role.ADMIN)
    offices = db.session.execute(select(Unit).where(
        Unit.in_any_subtree(paths), Unit.kind == UnitKind.OFFICE.value, Unit.active.is_(True))).scalars().all()
    return unit_choices(offices) if offices else []


@bp.route("/", methods=["GET", "POST"])
@login_required
def request_directory():
    choices = office_choices()
    if not choices:
        abort(403)
    form = DirectoryForm()
    form.unit_id.choices = choices
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit_id.data)
        paths = grant_paths(current_user, Role.ADMIN)
        if unit is None or not unit.is_office or not any(unit.path.startswith(p) for p in paths):
            form.unit_id.errors = [_("You can only request the directory of an office you administer.")]
        else:
            try:
                run = enqueue("unit_directory", {"unit_id": unit.id, "fmt": form.fmt.data,
                                                 "as_of": date.today().isoformat(), "lang": str(get_locale())},
                              requested_by=current_user, unit=unit)
            except QueueUnavailable:
                db.session.rollback()
                flash(_("The job queue cannot be reached right now; nothing was started. Please try again later."),
                      "error")
            else:
                db.session.commit()
                return redirect(url_for("home.job", run_id=run.id))
    recent = db.session.execute(select(JobRun).where(JobRun.requested_by_id == current_user.id,
                                                     JobRun.kind == "unit_directory")
                                .order_by(JobRun.id.desc()).limit(10)).scalars().all()
    return render_template("documents/directory.html", form=form, recent=recent)
