"""A long circular rendered in parts on several processes at once, merged into one document.

WeasyPrint lays out one document on one core; the monthly circular's annex lists every unit (a
thousand rows, most of the pages). So the annex's rows are split into as many parts as processes:
the first part is the whole document with the annex's first rows (as many as make every part cost
about the same to lay out), each further part only the annex table's next rows. ``pdf_parts``
renders them on child processes and merges them, numbered across the parts. Same inputs, same bytes.
"""
import re

from ... import pdf_parts

# Below this many annex rows one process is as quick as starting the others.
MIN_ROWS = 300
# A page of the document's body holds about this many characters (22 lines of 28 at 3号), and costs about
# as much to lay out as this many rows of the annex table (a row is nine cells, each its own text layout).
CHARS_PER_PAGE = 616
ROWS_PER_BODY_PAGE = 4
_TAGS = re.compile(r"<[^>]+>|\s+")


def split_at(head_html, rows, processes):
    """How many annex rows the first part takes so that every part costs about the same to lay out."""
    body = head_html.split("<body>", 1)[-1].split('<div class="annex">', 1)[0]
    body_rows = len(_TAGS.sub("", body)) / CHARS_PER_PAGE * ROWS_PER_BODY_PAGE
    share = (body_rows + len(rows)) / processes
    return max(0, min(len(rows), int(share - body_rows)))


def render(html_for, rows, target, processes):
    """``html_for(part=…, annex_rows=…, annex_offset=…, pages=…)`` gives each part's HTML; returns the page count."""
    first = split_at(html_for(part="head", annex_rows=[]), rows, processes)
    rest = rows[first:]
    size = -(-len(rest) // (processes - 1)) if rest else 0
    chunks = [(first + i * size, rest[i * size:(i + 1) * size]) for i in range(processes - 1)] if size else []
    chunks = [(0, rows[:first])] + [(offset, chunk) for offset, chunk in chunks if chunk]

    def part_html(part, rows, offset, pages):
        return html_for(part=part, annex_rows=rows, annex_offset=offset, pages=pages)

    return pdf_parts.render(part_html, chunks, target, processes, pdf_parts.start_method())
