"""Unit directory PDF: our pipeline against bare WeasyPrint (1,000 units, 100 at small scale), and the
1,000- and 10,000-unit directory rendered in child processes, in one piece and in parts."""
import io
import re
import time
from datetime import date

import pytest
from weasyprint import HTML

from tests.bench.conftest import scale
from tests.bench.test_bench_subtree import build_tree
from workflows import pdf
from workflows.documents import directory
from workflows.documents.directory import directory_html, directory_rows
from workflows.extensions import db
from workflows.models import Unit


def test_directory_pdf_against_bare_weasyprint(app, backend, report):
    if backend != "sqlite":
        pytest.skip("rendering does not depend on the database; measured once, on SQLite")
    total = scale(100, 1_000)
    rounds = scale(1, 3)
    with app.test_request_context():
        city, _, _ = build_tree(total)
        root = db.session.get(Unit, city["id"])
        ours, bare, pages = [], [], 0
        html = None
        HTML(string="<p>warm-up 预热</p>").write_pdf(io.BytesIO())
        for _ in range(rounds):
            # Ours: query, template, locked-down fetcher, render — what the job does.
            started = time.perf_counter()
            rows = directory_rows(root)
            html = directory_html(root, rows, date(2026, 11, 29), "zh_CN")
            pages = pdf.render_pdf(html, io.BytesIO())
            ours.append(time.perf_counter() - started)
            # Bare: WeasyPrint alone on the very same HTML string.
            started = time.perf_counter()
            HTML(string=html).write_pdf(io.BytesIO())
            bare.append(time.perf_counter() - started)
    ours_s, bare_s = min(ours), min(bare)
    report("unit directory PDF", ["units", "pages", "ours s", "ours pages/s", "bare s", "bare pages/s", "ratio"],
           [(total, pages, f"{ours_s:.2f}", f"{pages / ours_s:.1f}", f"{bare_s:.2f}", f"{pages / bare_s:.1f}",
             f"{ours_s / bare_s:.2f}")])
    assert pages >= 1


def _peak_rss_mb():
    with open("/proc/self/status") as status:
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.M).group(1)) // 1024


def test_directory_pdf_in_parts(app, backend, report, monkeypatch):
    """1,000 and 10,000 units (100 and 300 at small scale) in one process, in two parts on two processes,
    and in parts of at most CHUNK_ROWS rows two at a time: seconds, pages, the peak RSS of the busiest
    rendering process, and how much the process that asked (the RQ work-horse here) grew."""
    if backend != "sqlite":
        pytest.skip("rendering does not depend on the database; measured once, on SQLite")
    # At small scale the directories are shorter than MIN_ROWS: they still go through the child processes.
    monkeypatch.setattr(directory, "MIN_ROWS", 0)
    results = []
    for total in (scale(100, 1_000), scale(300, 10_000)):
        with app.test_request_context():
            db.session.execute(db.delete(Unit))
            city, _, _ = build_tree(total)
            root = db.session.get(Unit, city["id"])
            rows = directory.directory_rows(root)
            for label, processes, chunk_rows in (("one process", 1, None), ("2 parts, 2 at once", 2, total),
                                                 ("parts of ≤ %d rows, 2 at once" % directory.CHUNK_ROWS, 2,
                                                  directory.CHUNK_ROWS)):
                if chunk_rows is not None:
                    monkeypatch.setattr(directory, "CHUNK_ROWS", chunk_rows)
                parts = 1 if processes == 1 else max(2, -(-total // chunk_rows))
                # The peak from here on is this render's (Linux: "5" resets VmHWM).
                with open("/proc/self/clear_refs", "w") as clear:
                    clear.write("5")
                before, peaks = _peak_rss_mb(), []
                started = time.perf_counter()
                pages = directory.render_directory(root, rows, date(2026, 11, 29), "zh_CN", io.BytesIO(),
                                                   processes=processes, method="fork", peaks=peaks)
                seconds = time.perf_counter() - started
                results.append((total, label, parts, f"{seconds:.1f}", pages, max(peaks), _peak_rss_mb() - before))
    report("unit directory PDF in child processes",
           ["units", "how", "parts", "s", "pages", "peak MB a process", "asking process grew MB"], results)
    for total in {row[0] for row in results}:
        assert len({row[4] for row in results if row[0] == total}) == 1, "the same pages however rendered"
