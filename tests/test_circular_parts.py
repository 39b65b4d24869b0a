"""A long circular rendered in parts on two processes is the same document as in one piece.

The monthly circular's annex of a few hundred units is split between a forked child and the
rendering process and merged: every page keeps its GB/T 9704 page number in sequence on the right
side for its parity, the annex table has its header on each of its pages, every unit's row is there
once and numbered in order, and the same inputs give the same bytes.
"""
import hashlib
import io
import re
from datetime import date

import pdfplumber
import pytest

from tests import gbt9704
from workflows.documents.circulars import parts, rendering
from workflows.documents.circulars.composing import default_answers
from workflows.documents.circulars.kinds import kind_of

UNITS = parts.MIN_ROWS + 20
ROW = re.compile(r"^(\d+)测试单位(\d+)号")


def facts(units=UNITS):
    obligations = [{"key": "activity", "label": "活动报送"}, {"key": "nomination", "label": "典型推荐"}]
    rows = [{"id": i, "code": f"U{i}", "name": f"测试单位{i}号", "district": "甲区文明办", "reports": i % 3,
             "hours": str(i % 7), "points": str(i % 11), "status": {"activity": "met", "nomination": "missing"}}
            for i in range(1, units + 1)]
    return {"period": "2026-11", "year": 2026, "month": 11, "office": {"id": 1, "name": "测试市文明办"},
            "obligations": obligations,
            "districts": [{"name": "甲区文明办", "units": units, "active": units, "participation": 100.0,
                           "reports": units, "met": {"activity": 100.0, "nomination": 0.0}}],
            "units": rows, "missed": [], "met_all": [], "exemplary": [], "top_ten": [],
            "totals": {"units": units, "reports": units, "hours": "0", "missed": 0}, "covered": []}


def render(app, processes):
    data = facts()
    answers = default_answers(kind_of("monthly"), data)
    out = io.BytesIO()
    with app.test_request_context():
        pages = rendering.render_pdf("monthly", data, answers, "测试市文明办", out, processes=processes,
                                     doc_number="测文明办〔2026〕7号", issued_on=date(2026, 12, 1))
    return pages, out.getvalue(), answers["title"]


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("rendering reads no database; once is enough")


def test_parts_merge_into_one_numbered_document(app, sqlite_only):
    pages, data, title = render(app, processes=2)
    assert data.startswith(b"%PDF")
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == pages
        numbers = gbt9704.check_page_layout(pdf)
        assert sorted(numbers) == list(range(1, pages + 1)), "every page carries its number, in sequence"
        gbt9704.check_first_page(pdf.pages[0], title)
        seen, headed = [], 0
        for page in pdf.pages:
            texts = [text.replace(" ", "") for text, *_ in gbt9704.lines(page)]
            rows = [int(m.group(1)) for m in map(ROW.match, texts) if m]
            if rows:
                headed += any(t.startswith("序号单位") for t in texts)
                assert int(ROW.match(next(t for t in texts if ROW.match(t))).group(2)) == rows[0]
            seen.extend(rows)
        assert seen == list(range(1, UNITS + 1)), "each unit's row once, numbered on across the parts"
        annex_pages = sum(1 for page in pdf.pages
                          if any(ROW.match(t.replace(" ", "")) for t, *_ in gbt9704.lines(page)))
        assert headed == annex_pages, "the table's header on every page of the annex"


def test_parts_give_the_same_bytes_every_time(app, sqlite_only):
    first, second = render(app, processes=2), render(app, processes=2)
    assert hashlib.sha256(first[1]).hexdigest() == hashlib.sha256(second[1]).hexdigest()


def test_a_short_annex_is_rendered_in_one_piece(app, sqlite_only):
    data = facts(parts.MIN_ROWS - 1)
    answers = default_answers(kind_of("monthly"), data)
    with app.test_request_context():
        one, two = io.BytesIO(), io.BytesIO()
        rendering.render_pdf("monthly", data, answers, "测试市文明办", one, issued_on=date(2026, 12, 1))
        rendering.render_pdf("monthly", data, answers, "测试市文明办", two, processes=2, issued_on=date(2026, 12, 1))
    assert one.getvalue() == two.getvalue()


def test_a_long_circular_in_one_piece_renders_in_a_child_with_the_same_bytes(app, sqlite_only, caplog):
    """In-process jobs keep the circular in one piece; a child renders it, the bytes those of this process."""
    import logging
    data = facts()
    answers = default_answers(kind_of("monthly"), data)
    with app.test_request_context(), caplog.at_level(logging.INFO, logger="workflows.pdf_parts"):
        here, there = io.BytesIO(), io.BytesIO()
        rendering.render_pdf("monthly", data, answers, "测试市文明办", here, issued_on=date(2026, 12, 1))
        assert not caplog.records
        rendering.render_pdf("monthly", data, answers, "测试市文明办", there, in_child=True, issued_on=date(2026, 12, 1))
    assert "in a child process" in caplog.text
    assert here.getvalue() == there.getvalue()


def test_a_worker_renders_a_long_circular_in_parts(rq_app, run_worker, city, create_user):
    """Through a real RQ worker (PDF_RENDER_PROCESSES is 2 by default): the signed circular's PDF is the
    merged parts, every unit once, every page numbered in sequence."""
    from sqlalchemy import select

    from tests.test_circulars import compose, make_world, to_signing, user
    from workflows.documents.circulars import render_jobs
    from workflows.engine.perform import perform
    from workflows.extensions import db
    from workflows.models import Circular, JobRun
    app = rq_app
    assert app.config["PDF_RENDER_PROCESSES"] == 2
    make_world(app, city, create_user)
    cid, sid = compose(app, city)
    with app.app_context():
        row = db.session.get(Circular, cid)
        # The snapshot's own units stand for the hundreds of rows (receipts go to units that exist).
        real = [u["id"] for u in row.facts["units"]]
        rows = [dict(u, id=real[i % len(real)]) for i, u in enumerate(facts()["units"])]
        long_facts = dict(row.facts, units=rows)
        row.facts = long_facts
        db.session.commit()
    to_signing(app, sid)
    with app.test_request_context():
        perform(sid, "sign", user("head"))
    output = run_worker().communicate(timeout=300)[0].decode()
    with app.app_context():
        run = db.session.execute(select(JobRun).where(JobRun.kind == "circular_pdf")).scalar_one()
        assert run.state == "done", output
        signed = db.session.get(Circular, cid)
        data = render_jobs.path_of(signed).read_bytes()
        assert signed.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert b"/Producer (pypdf)" in data, "rendered in parts and merged, not in one piece"
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == signed.pdf_pages
        numbers = gbt9704.check_page_layout(pdf)
        assert sorted(numbers) == list(range(1, len(pdf.pages) + 1))
        numbered = [int(m.group(1)) for page in pdf.pages for text, *_ in gbt9704.lines(page)
                    if (m := ROW.match(text.replace(" ", "")))]
        assert numbered == list(range(1, UNITS + 1))
        assert signed.doc_number in pdf.pages[0].extract_text().replace(" ", "")
