"""Unit directory PDF for 1,000 units (100 at small scale): our pipeline against bare WeasyPrint."""
import io
import time
from datetime import date

import pytest
from weasyprint import HTML

from tests.bench.conftest import scale
from tests.bench.test_bench_subtree import build_tree
from workflows import pdf
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
