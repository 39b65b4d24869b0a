"""Rosters in and out of Excel: a template to fill in Excel or WPS, and its rows read back into the fill page.

The template (``GET /forms/<key>/v<version>/<field>.xlsx``) has one sheet for
the repeat's rows, headed by the column labels in the reader's language
(each header carries a comment naming the column's key and what it takes),
the header row frozen, and the text columns (ID numbers, phones, names)
formatted as text so Excel keeps an 18-digit ID number as typed instead of
turning it into 3.41201E+17; a hidden sheet lists the keys.

Reading back (``read_rows``) happens on the fill page: the workbook is
posted with the rest of the form, its rows replace the roster in the posted
data, and the page is then saved or shown again with its errors exactly like
a normal "save draft". The file is read with openpyxl in read-only mode, a
formula is read as its text and never evaluated, and the file is refused
before it is parsed when it is not an XLSX, larger than ``MAX_SIZE`` or
larger than ``MAX_UNPACKED`` once unzipped.
"""
import io
import re
import unicodedata
import zipfile
from datetime import date, datetime
from typing import NamedTuple

from flask import Blueprint, abort, send_file
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from forms import files as file_rules
from forms.answers import validate
from forms.messages import message

from ..access import grant_paths
from ..extensions import db
from ..models import FormVersion, Role
from ..spreadsheets import sheet_title, text_cell
from .posted import ROW_KEY

bp = Blueprint("roster_excel", __name__)

MAX_SIZE = 10 * 1024 * 1024  # the workbook as uploaded
MAX_UNPACKED = 80 * 1024 * 1024  # its parts once unzipped: a zip bomb is refused before parsing
MAX_COLUMNS = 200
HEADER_SEARCH = 10  # rows above the header (a title line) are skipped
KEYS_SHEET = "_fields"
# Columns people add that carry nothing to import.
IGNORED_HEADERS = {"序号", "#", "no", "no.", "编号"}
TEXT_TYPES = ("text", "textarea", "email", "phone", "id_card", "choice", "multi_choice")
EXACT_FLOAT = 2 ** 53
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_SPLIT = re.compile(r"[,，、;；\n]+")
_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def language():
    return "en" if get_locale().language == "en" else "zh"


def columns_of(field_spec):
    """The columns a person fills: not notes, not calculations."""
    return [c for c in field_spec.columns if c.type not in ("note", "calculate")]


# -- the template ---------------------------------------------------------------

def _comment_for(column, lang):
    model = column.model
    lines = [f"key: {column.name}"]
    if column.required:
        lines.append(_("Required."))
    if model.hint:
        lines.append(model.hint.get(lang))
    kind = column.type
    if kind == "id_card":
        lines.append(_("18 characters; this column is formatted as text, keep it so."))
    elif kind in ("integer", "decimal"):
        if model.min is not None:
            lines.append(_("At least %(n)s.", n=f"{model.min:g}"))
        if model.max is not None:
            lines.append(_("At most %(n)s.", n=f"{model.max:g}"))
    elif kind == "date":
        lines.append(_("A date, e.g. 2017-03-05."))
    elif kind in ("choice", "multi_choice"):
        lines.append(_("One of: %(items)s", items="、".join(c.label.get(lang) for c in column.choices or [])))
    elif kind == "boolean":
        lines.append(_("Yes or no (是 or 否)."))
    if model.unique:
        lines.append(_("Each value only once."))
    comment = Comment("\n".join(lines), "Wenming")
    comment.width, comment.height = 240, 120
    return comment


def _width(column, lang):
    if column.type == "id_card":
        return 24
    if column.type in ("textarea",):
        return 40
    title = column.model.title(lang)
    return max(10, min(40, 2 * len(title) + 4))


def template_workbook(spec, field_spec, lang):
    """The XLSX template for one repeat field, as bytes."""
    columns = columns_of(field_spec)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(field_spec.model.title(lang)))
    sheet.freeze_panes = "A2"
    formats = {}
    for number, column in enumerate(columns, start=1):
        letter = get_column_letter(number)
        sheet.column_dimensions[letter].width = _width(column, lang)
        if column.type in TEXT_TYPES:
            formats[number] = "@"
        elif column.type == "date":
            formats[number] = "yyyy-mm-dd"
        elif column.type == "datetime":
            formats[number] = "yyyy-mm-dd hh:mm"
        if number in formats:
            sheet.column_dimensions[letter].number_format = formats[number]
    header = []
    for column in columns:
        cell = text_cell(sheet, column.model.title(lang))
        cell.comment = _comment_for(column, lang)
        header.append(cell)
    sheet.append(header)
    # Empty cells already formatted, so what is typed or pasted into them is kept as text.
    empty = [text_cell(sheet, None, number_format=formats[n]) if n in formats else None
             for n in range(1, len(columns) + 1)]
    for _row in range(field_spec.model.max_rows):
        sheet.append([text_cell(sheet, None, number_format=cell.number_format) if cell is not None else None
                      for cell in empty])
    keys = workbook.create_sheet(KEYS_SHEET)
    keys.sheet_state = "hidden"
    keys.append([text_cell(keys, "form"), text_cell(keys, spec.key), text_cell(keys, "version"), spec.version,
                 text_cell(keys, "field"), text_cell(keys, field_spec.name)])
    for column in columns:
        keys.append([text_cell(keys, column.name), text_cell(keys, column.model.title("zh")),
                     text_cell(keys, column.model.title("en")), text_cell(keys, column.type)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@bp.get("/forms/<key>/v<int:version>/<field>.xlsx")
@login_required
def template(key, version, field):
    # A template holds labels only, but only people who fill forms need one.
    if not grant_paths(current_user, Role.FILLER):
        abort(403)
    form_version = db.session.execute(select(FormVersion).where(
        FormVersion.key == key, FormVersion.version == version,
        FormVersion.status.in_(("published", "retired")))).scalar_one_or_none()
    if form_version is None:
        abort(404)
    spec = form_version.spec
    field_spec = spec.field(field)
    if field_spec is None or field_spec.type != "repeat":
        abort(404)
    lang = language()
    name = f"{spec.schema.title.get(lang)}-{field_spec.model.title(lang)}.xlsx".replace("/", "-")
    response = send_file(io.BytesIO(template_workbook(spec, field_spec, lang)), as_attachment=True,
                         download_name=name, max_age=0,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- reading a filled-in workbook ----------------------------------------------------

class Imported(NamedTuple):
    field: str
    formdata: object  # the posted form with the roster's rows replaced (or the posted form itself)
    errors: dict  # path → messages; they replace the form layer's messages at the same path
    count: int | None  # rows read, None when the file was refused


class Refused(Exception):
    pass


def _header_key(text):
    text = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"[\s*]", "", text).casefold()


def _match_header(columns):
    names = {}
    for column in columns:
        model = column.model
        for text in (column.name, model.title("zh"), model.title("en")):
            names.setdefault(_header_key(text), column)
    return names


def _exact_int(value):
    """A number as digits when it is an integer the file holds exactly, else None."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_FLOAT:
        return str(int(value))
    return None


def _number_text(value):
    return _exact_int(value) or repr(value)


def _choice(column, text):
    wanted = _header_key(text)
    for item in column.choices or []:
        if wanted in (_header_key(item.value), _header_key(item.label.get("zh")), _header_key(item.label.get("en"))):
            return item.value
    return text.strip()


def _cell_text(column, value, lang):
    """One cell → what a person would have typed into the page; raises Refused with a message."""
    kind = column.type
    if isinstance(value, str):
        if kind == "date":
            match = _DATE.match(value.strip())
            if match:
                year, month, day = (int(part) for part in match.groups())
                return f"{year:04d}-{month:02d}-{day:02d}"
        if kind == "boolean":
            lowered = value.strip().casefold()
            if lowered in ("是", "√", "✓", "有"):
                return "1"
            if lowered in ("否", "×", "无"):
                return "0"
        if kind == "choice":
            return _choice(column, value)
        if kind == "multi_choice":
            return [_choice(column, part) for part in _SPLIT.split(value) if part.strip()]
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        if kind == "datetime":
            return value.strftime("%Y-%m-%d %H:%M")
        return value.date().isoformat() if kind == "date" or value.time() == datetime.min.time() \
            else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if kind == "id_card" and _exact_int(value) is None:
            raise Refused(_("Excel stored this ID number as a number (%(shown)s) and its last digits are lost. "
                            "Format the ID number column as text (the template is), type the numbers again and "
                            "import the file again.", shown=f"{value:G}"))
        if kind in ("date", "datetime") and 1 <= value < 2958466:
            when = from_excel(value)
            return when.date().isoformat() if kind == "date" else when.strftime("%Y-%m-%d %H:%M")
        if kind == "boolean" and value in (0, 1):
            return str(int(value))
        return _number_text(value)
    return str(value)


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _open(upload, lang):
    """The upload's first visible sheet, opened read-only; raises Refused."""
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
    stream = upload.stream
    size = file_rules.size_of(stream)
    if size == 0:
        raise Refused(message("file_empty", lang, name=name))
    if size > MAX_SIZE:
        raise Refused(message("file_too_big", lang, name=name, limit=file_rules.human_size(MAX_SIZE)))
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(_XLS):
        raise Refused(_("%(name)s is an old Excel 97-2003 (.xls) or WPS file. Open it in Excel or WPS, save it as "
                        "an Excel workbook (.xlsx) and import that.", name=name))
    if not head.startswith(b"PK\x03\x04"):
        raise Refused(_("%(name)s is not an Excel workbook (.xlsx). Download the template, fill it in Excel or WPS, "
                        "save it as .xlsx and import that.", name=name))
    data = io.BytesIO(stream.read())
    try:
        with zipfile.ZipFile(data) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED:
            raise Refused(message("file_too_big", lang, name=name, limit=file_rules.human_size(MAX_UNPACKED)))
        data.seek(0)
        workbook = load_workbook(data, read_only=True, data_only=False, keep_links=False)
    except Refused:
        raise
    except Exception:  # openpyxl raises many kinds of error on a damaged or foreign file
        raise Refused(_("%(name)s is not an Excel workbook (.xlsx) or it is damaged. Download the template, fill "
                        "it in Excel or WPS, save it as .xlsx and import that.", name=name)) from None
    sheets = [s for s in workbook.worksheets if getattr(s, "sheet_state", "visible") == "visible"
              and s.title != KEYS_SHEET] or workbook.worksheets[:1]
    if not sheets:
        raise Refused(_("%(name)s has no sheet to read.", name=name))
    return workbook, sheets[0]


def _header(rows, columns, lang):
    """(position → column) from the header row; raises Refused naming unknown and missing columns."""
    known = _match_header(columns)
    for _index, cells in zip(range(HEADER_SEARCH), rows):
        if not any(_header_key(c) in known for c in cells if not _blank(c)):
            continue
        positions, unknown, seen = {}, [], set()
        for position, cell in enumerate(cells):
            if _blank(cell):
                continue
            key = _header_key(cell)
            column = known.get(key)
            if column is None:
                if key not in IGNORED_HEADERS:
                    unknown.append(str(cell).strip())
                continue
            if column.name in seen:
                raise Refused(_("The column “%(column)s” appears twice in the header row.",
                                column=column.model.title(lang)))
            seen.add(column.name)
            positions[position] = column
        problems = []
        if unknown:
            problems.append(_("Unknown columns in the header row: %(columns)s.",
                              columns="、".join(f"“{u}”" for u in unknown)))
        missing = [c.model.title(lang) for c in columns if c.required and c.name not in seen]
        if missing:
            problems.append(_("Required columns missing from the header row: %(columns)s.",
                              columns="、".join(f"“{m}”" for m in missing)))
        if problems:
            problems.append(_("The columns are: %(columns)s (download the template to get them).",
                              columns="、".join(c.model.title(lang) for c in columns)))
            raise Refused(" ".join(problems))
        return positions
    raise Refused(_("No header row found: the first row should name the columns (%(columns)s). "
                    "Download the template and fill it in.", columns="、".join(c.model.title(lang) for c in columns)))


def read_rows(upload, field_spec, lang):
    """(rows as the page would post them, cell errors by (row, column)); raises Refused for the whole file."""
    columns = columns_of(field_spec)
    limit = field_spec.model.max_rows
    workbook, sheet = _open(upload, lang)
    try:
        rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        positions = _header(rows, columns, lang)
        out, errors = [], {}
        for cells in rows:
            picked = {column: cells[p] for p, column in positions.items() if p < len(cells)}
            if all(_blank(v) for v in picked.values()):
                continue
            if len(out) == limit:
                raise Refused(message("max_rows", lang, n=limit, got=f"{limit}+"))
            index = len(out)
            row = {}
            for column, value in picked.items():
                if value is None:
                    continue
                try:
                    row[column.name] = _cell_text(column, value, lang)
                except Refused as refused:
                    row[column.name] = f"{value:G}" if isinstance(value, float) else str(value)
                    errors[(index, column.name)] = str(refused)
            out.append(row)
    except Refused:
        raise
    except Exception:  # a damaged sheet shows itself only while it is read
        raise Refused(_("%(name)s could not be read to the end; it may be damaged. Save it again as .xlsx and "
                        "import that.", name=upload.filename or "upload")) from None
    finally:
        workbook.close()
    return out, errors


def import_rows(spec, field_name, formdata, files, lang):
    """The posted form with the roster ``field_name`` replaced by the rows of the uploaded workbook."""
    field_spec = spec.field(field_name)
    if field_spec is None or field_spec.type != "repeat":
        abort(400)
    upload = files.get(f"{field_name}-xlsx")
    if upload is None or not upload.filename:
        return Imported(field_name, formdata, {field_name: [_("Choose an Excel file (.xlsx) to import first.")]},
                        None)
    try:
        rows, cell_errors = read_rows(upload, field_spec, lang)
    except Refused as refused:
        return Imported(field_name, formdata, {field_name: [str(refused)]}, None)
    merged = MultiDict()
    for key, value in formdata.items(multi=True):
        match = ROW_KEY.match(key)
        if match and match.group(1) == field_name:
            continue  # the file's rows replace the rows on the page
        merged.add(key, value)
    for index, row in enumerate(rows):
        for column, value in row.items():
            name = f"{field_name}-{index}-{column}"
            for item in value if isinstance(value, list) else [value]:
                merged.add(name, item)
    errors = {f"{field_name}[{index}].{column}": [text] for (index, column), text in cell_errors.items()}
    return Imported(field_name, merged, errors, len(rows))


def roster_errors(spec, imported, raw, lang):
    """The roster's own errors as a submit would find them (limits, required cells, unique), by path.

    An import is saved as a draft, which checks types only; the rows just read are checked in full so
    that a bad row shows at once, while the rest of the form, still being filled, is left alone.
    """
    checked = validate(spec, raw, language=lang, strict=True)
    prefix = imported.field + "["
    return {path: messages for path, messages in checked.errors.items()
            if path == imported.field or path.startswith(prefix)}
