"""Cells and sheet titles for every spreadsheet the app writes (XLSX and CSV).

Invariant: no export carries a live formula. Text is always written as text:
in XLSX every string cell has type "s" (openpyxl would otherwise make a
formula of "=…" and an error value of "#N/A"); in CSV, which has no types, a
value starting with = + - @, a tab or a carriage return gets a leading
apostrophe, as OWASP advises against formula (CSV) injection. Sheet titles
are always ones Excel and openpyxl accept.
"""
import re
import unicodedata

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.utils import get_column_letter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses these in a sheet title; openpyxl raises on them.
_TITLE_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")
MAX_TITLE = 31


def text_cell(sheet, value, **style):
    """A write-only cell for ``value``; a string stays a string whatever it starts with."""
    if isinstance(value, str):
        # Control characters make openpyxl refuse the whole file.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def text_row(sheet, values):
    """A row of cells for ``sheet.append``; numbers, dates and None keep their types."""
    return [value if isinstance(value, Cell) else text_cell(sheet, value) for value in values]


def lay_out(sheet, widths, header_rows=1, fixed_columns=0):
    """Column widths (in characters) and the headings kept in view: the first ``header_rows`` rows and
    ``fixed_columns`` columns are frozen. A write-only sheet takes both only before its first row."""
    for number, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = f"{get_column_letter(fixed_columns + 1)}{header_rows + 1}"


def text_width(texts, least=8, most=60):
    """A column width that fits the longest of ``texts``: a Chinese (wide) character takes two columns."""
    longest = max((sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))
                   for text in texts if text is not None), default=0)
    return max(least, min(most, longest + 2))


def csv_text(value):
    """``value`` as a CSV field a spreadsheet will not evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def sheet_title(text, taken=None):
    """A sheet title from ``text``: no forbidden characters, at most 31 characters, not empty, and not
    in ``taken`` (compared as Excel does, ignoring case); the title is added to ``taken``."""
    title = _TITLE_FORBIDDEN.sub("-", ILLEGAL_CHARACTERS_RE.sub("", text or ""))
    # Excel also refuses a title that starts or ends with an apostrophe.
    title = _fit(title.strip().strip("'").strip()) or "Sheet"
    if taken is not None:
        used = {t.lower() for t in taken}
        base, number = title, 1
        while title.lower() in used:
            number += 1
            suffix = f" ({number})"
            title = _fit(base, MAX_TITLE - len(suffix)) + suffix
        taken.add(title)
    return title


def _fit(text, limit=MAX_TITLE):
    """``text`` cut to ``limit`` UTF-16 units, which is how Excel counts a title's length."""
    while len(text.encode("utf-16-le")) // 2 > limit:
        text = text[:-1]
    return text
