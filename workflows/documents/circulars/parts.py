"""A long circular rendered in parts on several processes at once, merged into one document.

WeasyPrint lays out one document on one core; the monthly circular's annex lists every unit (a
thousand rows, most of the pages). So the annex's rows are split: the first part is the whole
document with the annex's first rows, each further part only the annex table's next rows (its
header repeated on each of its pages, its row numbers continuing, its pages unnumbered). The parts
are rendered at once — the further parts in forked children, which only turn HTML into a PDF file
and never touch the database — and merged with pypdf; then a document of as many blank pages
under the same page rules gives the page numbers (``— N —`` on the right of odd pages, the left of
even ones), stamped onto the pages after the first part's. Same inputs, same bytes.
"""
import io
import multiprocessing
import os
import re
import tempfile

from flask import current_app
from pypdf import PdfReader, PdfWriter

from ... import pdf

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


def _child(app, html, path, numbers_for, head_pages):
    """Render one further part to ``path``; the last one then also renders the page numbers, once the first
    part's page count arrives (the first part is laid out by then and still being written)."""
    with app.app_context():
        pages = pdf.render_pdf(html, path)
        if numbers_for is not None:
            total = head_pages.recv() + pages
            pdf.render_pdf(numbers_for(total), path + ".numbers")


def render(html_for, rows, target, processes):
    """``html_for(part=…, annex_rows=…, annex_offset=…, pages=…)`` gives each part's HTML; returns the page count.

    The page numbers need every part's page count; the last part's process, which knows its own, is told
    the first part's as soon as it is laid out and renders the numbers while the first part is written.
    With more than two parts, the middle parts' counts reach it the same way.
    """
    first = split_at(html_for(part="head", annex_rows=[]), rows, processes)
    rest = rows[first:]
    size = -(-len(rest) // (processes - 1)) if rest else 0
    chunks = [(first + i * size, rest[i * size:(i + 1) * size]) for i in range(processes - 1)] if size else []
    chunks = [(offset, chunk) for offset, chunk in chunks if chunk]
    app = current_app._get_current_object()
    fork = multiprocessing.get_context("fork")

    def numbers_for(total):
        return html_for(part="numbers", annex_rows=[], pages=total)

    with tempfile.TemporaryDirectory(prefix="circular-parts-") as folder:
        children = []
        for index, (offset, chunk) in enumerate(chunks):
            path = os.path.join(folder, f"part{index}.pdf")
            html = html_for(part="rest", annex_rows=chunk, annex_offset=offset)
            last = index == len(chunks) - 1
            receive, send = fork.Pipe(duplex=False) if last else (None, None)
            child = fork.Process(target=_child, args=(app, html, path, numbers_for if last else None, receive),
                                 daemon=True)
            child.start()
            children.append((child, path, send))
        head = io.BytesIO()
        document = pdf.layout(html_for(part="head", annex_rows=rows[:first]))
        if children:
            middle = 0
            for child, path, _send in children[:-1]:
                child.join()
                middle += len(PdfReader(path).pages)
            children[-1][2].send(len(document.pages) + middle)
        document.write_pdf(head)
        parts = [PdfReader(head)]
        for child, path, _send in children:
            child.join()
            if child.exitcode != 0:
                raise RuntimeError(f"a part of the document failed to render (exit code {child.exitcode})")
            with open(path, "rb") as handle:
                parts.append(PdfReader(io.BytesIO(handle.read())))
        total = sum(len(p.pages) for p in parts)
        if children:
            with open(children[-1][1] + ".numbers", "rb") as handle:
                stamps = PdfReader(io.BytesIO(handle.read())).pages
        writer = PdfWriter()
        index = 0
        for number, part in enumerate(parts):
            for page in part.pages:
                added = writer.add_page(page)
                if number:
                    added.merge_page(stamps[index])
                index += 1
        writer.write(target)
    return total
