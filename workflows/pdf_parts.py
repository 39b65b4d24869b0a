"""A long document rendered by child processes, in parts merged into one PDF.

WeasyPrint lays a document out on one core and holds all of it until it is written: a 10,000-row
table peaks above a gigabyte, and a process that did that keeps most of it. So a long table's rows
are cut into parts, each rendered by a child process of its own that turns HTML into a PDF file and
exits, giving its memory back; at most ``processes`` render at once. The first part is the document
with the first rows, each further part only the table's next rows (its header repeated on each of
its pages, its row numbers continuing, its pages unnumbered). A child merges them with pypdf, and a
document of as many blank pages under the same page rules gives the page numbers (``— N —`` on the
right of odd pages, the left of even ones), stamped onto the pages after the first part's. Same
inputs, same bytes.

The children read no database and build no app: the HTML is made here, and they are given the static
folder their fetcher serves. They are forked from an RQ work-horse (one job on one thread); when jobs
run on a thread of the web process, where a fork could copy another thread's held lock, they come
from a fork server, so the web process never holds a render's memory.
"""
import logging
import multiprocessing
import os
import resource
import shutil
import tempfile
from multiprocessing.connection import wait

from flask import current_app
from pypdf import PdfReader, PdfWriter

from . import pdf

log = logging.getLogger(__name__)


def start_method():
    """How children start for a job of this app: see the module's docstring."""
    from .jobs import dispatcher
    return "fork" if dispatcher().mode == "rq" else "forkserver"


def _context(method):
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        # The server imports the renderer once, before its first child; each child then starts ready.
        context.set_forkserver_preload([__name__])
    return context


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _render_part(static, html, path, report):
    """In a child: lay ``html`` out, say how many pages it has (the page numbers need that, not the file),
    write it to ``path``, then say how much memory all that took."""
    document = pdf.layout(html, static=static)
    report.send(len(document.pages))
    document.write_pdf(path)
    report.send(_peak_mb())


def _merge(paths, numbers, numbered_from, target, report):
    """In a child: the parts' pages in order, each from ``numbered_from`` on under its page number."""
    stamps = PdfReader(numbers).pages if numbers else []
    writer = PdfWriter()
    index = 0
    for path in paths:
        for page in PdfReader(path).pages:
            added = writer.add_page(page)
            if index >= numbered_from:
                added.merge_page(stamps[index])
            index += 1
    writer.write(target)
    report.send(_peak_mb())


class _Children:
    """Running children, each with a pipe it reports on; ``peaks`` collects their peak RSS (MB)."""

    def __init__(self, method, peaks):
        self.context = _context(method)
        self.running = {}
        self.peaks = peaks

    def start(self, target, args, label):
        receive, send = self.context.Pipe(duplex=False)
        child = self.context.Process(target=target, args=(*args, send), daemon=True)
        child.start()
        send.close()
        self.running[receive] = [child, label, []]

    def busy(self, label_filter):
        return sum(1 for _child, label, _messages in self.running.values() if label_filter(label))

    def messages(self):
        """Wait for news; yields (label, message) for each message, and checks each child that ended."""
        for connection in wait(list(self.running)):
            child, label, received = self.running[connection]
            try:
                message = connection.recv()
            except EOFError:
                connection.close()
                del self.running[connection]
                child.join()
                if child.exitcode != 0 or not received:
                    raise RuntimeError(f"a part of the document failed to render (exit code {child.exitcode})")
                self.peaks.append(received[-1])
                continue
            received.append(message)
            yield label, message

    def stop(self):
        for child, _label, _messages in self.running.values():
            child.terminate()
            child.join()
        self.running.clear()


def _deliver(path, target):
    if isinstance(target, (str, os.PathLike)):
        shutil.copyfile(path, target)
    else:
        with open(path, "rb") as handle:
            shutil.copyfileobj(handle, target)


def render_one(html, target, method, peaks=None):
    """``html`` as a PDF in ``target`` (a path or binary file), rendered in one child; returns the page count.
    The bytes are the ones ``pdf.render_pdf`` gives."""
    children = _Children(method, peaks if peaks is not None else [])
    pages = None
    with tempfile.TemporaryDirectory(prefix="pdf-render-") as folder:
        path = os.path.join(folder, "document.pdf")
        try:
            children.start(_render_part, (pdf.static_of(current_app), html, path), "whole")
            while children.running:
                for _label, message in children.messages():
                    pages = message if pages is None else pages
        finally:
            children.stop()
        _deliver(path, target)
    log.info("rendered %s pages in a child process (peak %s MB)", pages, children.peaks[-1])
    return pages


def render(html_for, chunks, target, processes, method, peaks=None):
    """The document whose table rows are ``chunks`` ([(offset, rows), …]) as one PDF in ``target`` (a path
    or binary file), rendered at most ``processes`` parts at once; returns the page count.

    ``html_for(part=…, rows=…, offset=…, pages=…)`` gives each part's HTML: "head" (the document with the
    first chunk's rows), "rest" (only the table, with a further chunk's rows numbered from ``offset`` + 1,
    pages unnumbered) and "numbers" (``pages`` blank pages under the page rules, carrying the numbers).
    The numbers are rendered as soon as every part's page count is known, while the parts are written.
    ``peaks``, when given, receives each child's peak RSS in MB.
    """
    static = pdf.static_of(current_app)
    children = _Children(method, peaks if peaks is not None else [])
    counts = [None] * len(chunks)
    with tempfile.TemporaryDirectory(prefix="pdf-parts-") as folder:
        paths = [os.path.join(folder, f"part{index}.pdf") for index in range(len(chunks))]
        numbers = os.path.join(folder, "numbers.pdf") if len(chunks) > 1 else None
        merged = os.path.join(folder, "merged.pdf")
        waiting = list(range(len(chunks)))
        numbering = numbers is None
        try:
            while waiting or children.running or not numbering:
                while waiting and children.busy(lambda label: isinstance(label, int)) < processes:
                    index = waiting.pop(0)
                    offset, rows = chunks[index]
                    html = html_for(part="head" if index == 0 else "rest", rows=rows, offset=offset, pages=0)
                    children.start(_render_part, (static, html, paths[index]), index)
                if not numbering and None not in counts:
                    # A few hundred blank pages: small, so it does not wait for a free place.
                    html = html_for(part="numbers", rows=[], offset=0, pages=sum(counts))
                    children.start(_render_part, (static, html, numbers), "numbers")
                    numbering = True
                    continue
                for label, message in children.messages():
                    if isinstance(label, int) and counts[label] is None:
                        counts[label] = message
            children.start(_merge, (paths, numbers, counts[0], merged), "merge")
            while children.running:
                list(children.messages())
        finally:
            children.stop()
        _deliver(merged, target)
    log.info("rendered %s pages in %s parts, %s at once (peak %s MB a process)", sum(counts), len(chunks),
             processes, max(children.peaks))
    return sum(counts)
