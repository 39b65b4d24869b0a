"""A long unit directory rendered in parts on child processes is the document one process makes.

Read back: the same pages with the same text as the render in one piece, each page beginning with the
row chosen for it, page numbers `— N —` in sequence on the side of their parity, the table's header
on every page with rows, every unit once in tree order and numbered on across the parts; the same
inputs give the same bytes. When jobs run in the web process, the render's memory is a child's.
"""
import hashlib
import io
import logging
import re
from datetime import date

import pdfplumber
import pytest
from sqlalchemy import func, insert, select

from tests import gbt9704
from workflows.documents import directory
from workflows.extensions import db
from workflows.models import JobRun, Unit

UNITS = directory.MIN_ROWS + 30
ROW = re.compile(r"^(\d+) ([A-Z][A-Z0-9-]*) (\S+)")
HEADER = "序号 单位代码 单位名称 类别 上级单位"
AS_OF = date(2026, 11, 29)


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("rendering reads the database once, for the rows; once is enough")


def grow(parent_id, total):
    """``total`` units under ``parent_id``, inserted at once: twelve offices whose names wrap in the parent
    column (rows one and two lines high), their units, the units' teams."""
    parent = db.session.get(Unit, parent_id)
    next_id = db.session.execute(select(func.max(Unit.id))).scalar() + 1
    rows = []

    def add(above, kind, name):
        nonlocal next_id
        row = {"id": next_id, "parent_id": above["id"], "kind": kind, "code": f"B{next_id:06d}", "name": name,
               "path": f"{above['path']}{next_id}/", "depth": above["depth"] + 1, "active": True}
        next_id += 1
        rows.append(row)
        return row

    top = {"id": parent.id, "path": parent.path, "depth": parent.depth}
    offices = [add(top, "office", f"第{n}片区新时代文明实践中心") for n in range(1, 13)]
    while len(rows) < total:
        for office in offices:
            if len(rows) < total:
                unit = add(office, "civilized_unit", f"基准单位{next_id}")
                for _ in range(min(9, total - len(rows))):
                    add(unit, "team", f"基准队{next_id}")
    db.session.execute(insert(Unit), rows)
    db.session.commit()
    return parent


def render(root, rows, processes):
    out = io.BytesIO()
    pages = directory.render_directory(root, rows, AS_OF, "zh_CN", out, processes=processes)
    return pages, out.getvalue()


def read(data):
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() for page in pdf.pages]


def rows_of(texts):
    return [[m.groups() for m in map(ROW.match, text.splitlines()) if m] for text in texts]


def test_parts_make_the_document_of_one_process(app, sqlite_only, city, monkeypatch):
    with app.test_request_context():
        root = grow(city["a"], UNITS)
        rows = directory.directory_rows(root)
        starts = directory.page_starts(root, rows, "zh_CN")
        one_pages, one = render(root, rows, processes=1)
        two_pages, two = render(root, rows, processes=2)
        # More parts than processes: three parts, two at a time.
        monkeypatch.setattr(directory, "CHUNK_ROWS", UNITS // 3 + 1)
        three_pages, three = render(root, rows, processes=2)
    assert b"/Producer (pypdf)" not in one and b"/Producer (pypdf)" in two and b"/Producer (pypdf)" in three
    assert one_pages == two_pages == three_pages == len(read(one))
    texts = read(two)
    assert texts == read(one) == read(three), "the same pages, the same text on each"
    with pdfplumber.open(io.BytesIO(two)) as pdf:
        numbers = gbt9704.check_page_layout(pdf)
        gbt9704.check_fonts(pdf)
        gbt9704.check_first_page(pdf.pages[0], f"{root.name}单位名录")
    assert sorted(numbers) == list(range(1, two_pages + 1))
    assert all(f"— {n} —" in text for n, text in enumerate(texts, start=1)), "every page's number, in sequence"
    on_pages = rows_of(texts)
    assert all(HEADER in text for text, found in zip(texts, on_pages) if found), "the header on every page"
    assert [int(found[0][0]) - 1 for found in on_pages if found] == starts, "each page begins where planned"
    listed = [row for found in on_pages for row in found]
    assert [int(number) for number, _, _ in listed] == list(range(1, len(rows) + 1)), "numbered on across parts"
    assert [(code, name) for _, code, name in listed] == [(r["code"], r["name"]) for r in rows], \
        "every unit once, in tree order"
    signature = f"\n{root.name}\n2026年11月29日\n"
    assert signature in texts[-1] and signature not in "".join(texts[:-1]), "signed at the end only"


def test_parts_give_the_same_bytes_every_time(app, sqlite_only, city):
    with app.test_request_context():
        root = grow(city["a"], UNITS)
        rows = directory.directory_rows(root)
        first, second = render(root, rows, processes=2), render(root, rows, processes=2)
    assert hashlib.sha256(first[1]).hexdigest() == hashlib.sha256(second[1]).hexdigest()


def _memory_mb(field):
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.M).group(1)) // 1024


def test_an_in_process_job_renders_in_a_child(app, sqlite_only, city, create_user, client, login, caplog):
    """Jobs on a thread of the web process: the directory's render grows a child, not this process."""
    with app.app_context():
        grow(city["a"], 1_500)
    create_user("admin.a", city["a"], "admin")
    login("admin.a")
    # The peak RSS from here on is what this process needs for the job (Linux: "5" resets VmHWM).
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = _memory_mb("VmHWM")
    with caplog.at_level(logging.INFO, logger="workflows.pdf_parts"):
        response = client.post("/documents/directory/", data={"unit_id": city["a"], "fmt": "pdf"})
        assert response.status_code == 302, response.get_data(as_text=True)
        with app.app_context():
            app.extensions["wenming_jobs"].wait_idle()
    grown = _memory_mb("VmHWM") - before
    with app.app_context():
        run = db.session.execute(select(JobRun)).scalar_one()
        assert run.state == "done", run.error
    peaks = [int(m.group(1)) for m in (re.search(r"peak (\d+) MB", r.getMessage()) for r in caplog.records) if m]
    assert peaks, caplog.text
    assert grown < 100 and grown * 2 < peaks[0], f"this process grew {grown} MB; the child peaked at {peaks[0]} MB"


def test_a_worker_renders_a_long_directory_in_parts(rq_app, run_worker, city, create_user):
    """Through a real RQ worker (PDF_RENDER_PROCESSES is 2 by default): its work-horse forks the parts."""
    assert rq_app.config["PDF_RENDER_PROCESSES"] == 2
    with rq_app.app_context():
        rows = directory.directory_rows(grow(city["a"], UNITS))
    create_user("admin.a", city["a"], "admin")
    client = rq_app.test_client()
    client.post("/login", data={"username": "admin.a", "password": "correct-horse-1"})
    response = client.post("/documents/directory/", data={"unit_id": city["a"], "fmt": "pdf"})
    assert response.status_code == 302
    output = run_worker().communicate(timeout=300)[0].decode()
    status = client.get(response.headers["Location"] + ".json").get_json()
    assert status["state"] == "done", output + str(status)
    data = client.get(status["download_url"]).data
    assert b"/Producer (pypdf)" in data, "rendered in parts and merged, not in one piece"
    texts = read(data)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert sorted(gbt9704.check_page_layout(pdf)) == list(range(1, len(texts) + 1))
    assert [code for found in rows_of(texts) for _, code, _ in found] == [r["code"] for r in rows]
