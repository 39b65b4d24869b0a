"""Where the unit directory's pages break, decided from the rows' text before anything is laid out.

A long directory is rendered in parts on several processes (``pdf_parts``); for the parts to make the
very document one process makes, each part must begin where a page begins. So every page's first row is
chosen here, from an estimate of each row's height (how many lines its longest cell takes in its
column), and the template breaks the page before it: the pages are the same whichever process lays
them out. The estimate errs on the tall side — a page a row short, rather than a row pushed onto a
page of its own. The lengths are the template's (templates/pdf/directory.html, on official.html).
"""
import math
import unicodedata

# Column widths (mm) of No., code, name, kind, parent: the text area's 156 mm.
WIDTHS = (11, 28, 58, 23.5, 35.5)
FIELDS = (None, "code", "name", "kind_label", "parent_name")
EM = 12 * 25.4 / 72                 # the table's 12 pt
CELL_SIDES = 2 * 0.8 + 0.25         # padding and the collapsed border
LINE = 1.4 * EM                     # line-height 1.4
ROW_SIDES = 2 * 1 + 0.25            # padding and border of a row
HEADER = 7.8                        # the header row (黑体, its own padding), repeated on every page
TEXT_AREA = 225                     # height of the GB/T 9704 text area
SLACK = 1.5                         # what the estimate leaves free on every page
# The first page: the red head, the number, the red rule and the title's first line, the opening
# paragraph's first line and the table's top margin; more lines push the table down by a line each.
FIRST_TABLE_TOP = 148.3
BODY_LINE = 10.22
TITLE_EM = 156 / (22 * 25.4 / 72)
BODY_EM = 156 / (16 * 25.4 / 72)
HEAD_PT = 32


def width(text):
    """``text``'s width in ems: a CJK character takes one, anything else (Latin, digits) at most 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in text)


def lines(text, room):
    """Lines ``text`` takes in ``room`` ems: it breaks between CJK characters and at spaces, never in a word."""
    count, used = 1, 0.0
    for word in _words(text):
        size = width(word)
        if used and used + size > room:
            count, used = count + 1, (0.0 if word == " " else size)
        else:
            used += size
    return count


def _words(text):
    word = ""
    for char in text:
        if char == " " or unicodedata.east_asian_width(char) in "WF":
            if word:
                yield word
            word = ""
            yield char
        else:
            word += char
    if word:
        yield word


def row_height(number, row):
    cells = [str(number)] + [str(row[field] or "") for field in FIELDS[1:]]
    tallest = max(lines(text, (w - CELL_SIDES) / EM) for text, w in zip(cells, WIDTHS))
    return ROW_SIDES + tallest * LINE


def first_table_top(organ, title, opening):
    """Where the table begins on the first page (mm from the text area's top), under the red head of
    ``organ``, ``title`` and an opening paragraph ``opening`` ems long."""
    head_pt = min(HEAD_PT, 440 / (len(organ) * 1.12 + 0.12))
    title_lines = sum(math.ceil(width(line) / TITLE_EM) or 1 for line in title.splitlines() or [""])
    opening_lines = math.ceil((opening + 2) / BODY_EM)
    return (FIRST_TABLE_TOP - (HEAD_PT - head_pt) * 25.4 / 72
            + BODY_LINE * (title_lines - 1) + BODY_LINE * max(0, opening_lines - 2))


def page_starts(rows, first_top):
    """The index of every page's first row (0 first)."""
    starts, room = [0], TEXT_AREA - first_top - HEADER - SLACK
    for index, row in enumerate(rows):
        height = row_height(index + 1, row)
        if height > room and index != starts[-1]:
            starts.append(index)
            room = TEXT_AREA - HEADER - SLACK
        room -= height
    return starts


def chunks(rows, starts, count):
    """``rows`` cut at page starts into at most ``count`` runs of about the same length: [(offset, rows)]."""
    bounds = [0]
    for part in range(1, count):
        wanted = part * len(rows) / count
        cut = min(starts, key=lambda start: (abs(start - wanted), start))
        if cut > bounds[-1]:
            bounds.append(cut)
    bounds.append(len(rows))
    return [(start, rows[start:end]) for start, end in zip(bounds, bounds[1:]) if end > start]
