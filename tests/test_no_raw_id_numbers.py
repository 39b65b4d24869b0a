"""No raw ID number anywhere it should not be (issue 9, item 9): a sweep over one whole working day.

A unit registers volunteers (through the page and the API), reports an
activity with their ID numbers, a certifier certifies it, corrections are
asked for and answered, certificates are issued one at a time and for the
whole unit, records are exported and read back through every page and the
API; one certifier presses "show" once. Then everything the run left
behind is searched for the numbers, the readable head of each (region and
birth date) and the lower-case form of an ``X``:

- every column of every row of every table in the database;
- every log record of the run, SQL statements and their parameters included;
- every URL asked for and every redirect;
- every answer (pages, JSON, downloaded XLSX cell by cell, PDFs as text,
  ZIP entries each opened).

Two kinds of answer may carry a number, and only to the person entitled:
the audited "show" (what the test itself revealed), and the filling unit's
own form while it is being filled (the number the clerk typed, sent back so
nothing typed is lost). Both are checked to carry it — so the sweep is
seen to find a number where there is one.
"""
import io
import json
import logging
import re
import zipfile
from datetime import date

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from forms.idcard import check_character
from workflows.api import issue_token
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import ServiceRecord, User
from workflows.volunteers import corrections

from .test_volunteers import approved_report, people, user, volunteer  # noqa: F401  (people: a fixture)


def _number(serial, born):
    first17 = f"341202{born}{serial:03d}"
    return first17 + check_character(first17)


# Serial 211 of 1985-06-12 ends in X: the lower-case form must not slip through either.
REPORTED = [_number(s, "19850612") for s in (211, 212, 213)]
THROUGH_PAGE = _number(214, "19920101")
THROUGH_API = _number(215, "19780909")
NUMBERS = REPORTED + [THROUGH_PAGE, THROUGH_API]
CERT = {"period_from": "2017-01-01", "period_to": "2017-12-31", "person_in_charge": "周主任",
        "officer": "吴经办", "contact": "0558-1234567"}


def needles():
    found = set()
    for number in NUMBERS:
        found |= {number, number.lower(), number[:17], number[:14]}
    return found


def leaks(text, where):
    return [f"{where}: {needle}" for needle in needles() if needle in text]


class Recorder:
    """Every request a client makes and every answer it gets, as (url, location, body as text)."""

    def __init__(self):
        self.seen = []

    def watch(self, client):
        original = client.open

        def open_and_keep(*args, **kwargs):
            response = original(*args, **kwargs)
            url = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
            url += ("?" + "&".join(f"{k}={v}" for k, v in kwargs["query_string"].items())
                    if isinstance(kwargs.get("query_string"), dict) else "")
            self.seen.append((url, response.headers.get("Location", ""), _readable(response.data)))
            return response
        client.open = open_and_keep
        return client


def _readable(data):
    """The text of an answer: HTML/JSON as is, a PDF's text, an XLSX's cells, each ZIP entry in turn."""
    if data.startswith(b"%PDF"):
        with pdfplumber.open(io.BytesIO(data)) as document:
            text = "".join(page.extract_text() or "" for page in document.pages)
        return text + re.sub(r"\s+", "", text)
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" in names:
                book = load_workbook(io.BytesIO(data), read_only=True)
                return "\n".join(str(cell) for sheet in book.worksheets
                                 for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)
            return "\n".join(name + "\n" + _readable(archive.read(name)) for name in names)
    return data.decode("utf-8", "replace")


def _signed_in(app, recorder, username):
    client = recorder.watch(app.test_client())
    assert client.post("/login", data={"username": username, "password": "correct-horse-1"}).status_code == 302
    return client


def _job_download(app, client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    run_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    with app.app_context():
        app.extensions["wenming_jobs"].wait_idle()
    status = client.get(f"/jobs/{run_id}.json").get_json()
    assert status["state"] == "done", status
    download = client.get(status["download_url"])
    assert download.status_code == 200
    return download.data


def _token(app, username):
    with app.app_context():
        plain = issue_token(user(username), "sweep")[1]
        db.session.commit()
        return {"Authorization": f"Bearer {plain}"}


def _database_text(app):
    """Every value of every column of every row, as text: the tables as the database holds them."""
    out = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            for row in db.session.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        text = bytes(value).decode("latin-1")
                    elif isinstance(value, (dict, list)):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    out.append((f"{table.name}.{column}", text))
    return out


def _a_working_day(app, people, recorder):
    city = people["city"]
    filler = _signed_in(app, recorder, "filler.a1")
    # The clerk types numbers into the roster: the lookup, a saved draft, a refused submit.
    assert filler.post("/volunteers/lookup", json={"unit": city["a1"], "number": REPORTED[0]}).status_code == 200
    draft = filler.post("/forms/activity_report/new", data={
        "action": "save", "title": "草稿活动", "roster-0-name": "张三", "roster-0-id_number": REPORTED[0],
        "roster-0-hours": "2"})
    assert draft.status_code in (200, 302), draft.status_code
    refused = filler.post("/forms/activity_report/new", data={
        "action": "submit", "title": "缺少日期的活动", "roster-0-name": "李四", "roster-0-id_number": REPORTED[1],
        "roster-0-hours": "2"})
    assert refused.status_code == 422
    # A registration through the page and one through the API.
    page = filler.post("/forms/volunteer_registration/new", data={
        "action": "submit", "name": "赵页面", "sex": "male", "id_number": THROUGH_PAGE, "phone": "13900139000",
        "skills": "teaching", "data_consent": "1"})
    assert page.status_code == 302, page.get_data(as_text=True)[:3000]
    api = recorder.watch(app.test_client())
    created = api.post("/api/v1/submissions", headers=_token(app, "filler.a1"), json={
        "form": "volunteer_registration", "unit": city["a1"],
        "answers": {"name": "钱接口", "sex": "female", "id_number": THROUGH_API, "phone": "13900139001",
                    "data_consent": True}})
    assert created.status_code == 201, created.get_json()
    registration = created.get_json()["id"]
    assert api.post(f"/api/v1/submissions/{registration}/submit",
                    headers=_token(app, "filler.a1"), json={}).status_code == 200
    certifier = _signed_in(app, recorder, "certifier.a")
    for submission in _queue_ids(app, "volunteer_registration"):
        shown = certifier.get(f"/submissions/{submission}")
        assert shown.status_code == 200
        version = re.search(r'name="expected_version" value="(\d+)"', shown.get_data(as_text=True)).group(1)
        assert certifier.post(f"/submissions/{submission}/actions/register",
                              data={"expected_version": version}).status_code == 302
    # The activity: reported, approved, certified on the certifier's page with one row corrected.
    report = approved_report(app, people, [("张三", REPORTED[0], 3), ("李四", REPORTED[1], 4),
                                           ("王五", REPORTED[2], 2)])
    reviewer = _signed_in(app, recorder, "reviewer.a")
    for url in ("/review/", f"/submissions/{report}", "/", "/volunteers/"):
        assert reviewer.get(url).status_code == 200, url
    text = certifier.get(f"/submissions/{report}").get_data(as_text=True)
    version = re.search(r'name="expected_version" value="(\d+)"', text).group(1)
    assert certifier.post(f"/submissions/{report}/certify", data={
        "expected_version": version, "decision-1": "correct", "hours-1": "3.5", "reason-1": "含路途"}
    ).status_code == 302
    # A correction asked for and answered.
    with app.test_request_context():
        number = volunteer(REPORTED[0]).number
        key = db.session.execute(select(ServiceRecord.record_key).where(
            ServiceRecord.volunteer_id == volunteer(REPORTED[0]).id)).scalar_one()
    assert filler.post(f"/volunteers/records/{key}/correction",
                       data={"expected_version": 1, "reason": "时长少记", "hours": "4"}).status_code == 302
    assert certifier.post(f"/volunteers/records/{key}/amend",
                          data={"expected_version": 2, "reason": "核实", "hours": "4"}).status_code == 302
    # Every page and answer about them.
    with app.app_context():
        others = [volunteer(n).number for n in REPORTED[1:] + [THROUGH_PAGE, THROUGH_API]]
    tail = REPORTED[1][-4:]
    for client in (certifier, reviewer, filler):
        for url in ("/volunteers/", f"/volunteers/?q={tail}", "/volunteers/?q=李", f"/volunteers/{number}",
                    "/volunteers/leaderboard?scope=district&year=2017", f"/submissions/{report}",
                    f"/volunteers/records.xlsx?unit={city['a1']}&from=2017-01-01&to=2017-12-31", "/"):
            client.get(url)
        for other in others:
            client.get(f"/volunteers/{other}")
    headers = _token(app, "certifier.a")
    for url in (f"/api/v1/volunteers?q={tail}", "/api/v1/volunteers", f"/api/v1/volunteers/{number}",
                f"/api/v1/submissions/{report}", f"/api/v1/submissions/{registration}", "/api/v1/queue"):
        assert api.get(url, headers=headers).status_code == 200, url
    # Certificates: one, and the whole unit's as a ZIP; the public check.
    single = _job_download(app, certifier, certifier.post(f"/volunteers/{number}/certificates", data=CERT))
    assert single.startswith(b"%PDF")
    batch = _job_download(app, certifier, certifier.post("/volunteers/certificates/batch",
                                                         data=dict(CERT, unit_id=city["a1"])))
    assert batch.startswith(b"PK")
    with app.app_context():
        from workflows.models.volunteers import Certificate
        code = db.session.execute(select(Certificate.code).limit(1)).scalar_one()
    assert recorder.watch(app.test_client()).get(f"/verify/{code}").status_code == 200
    # The one audited "show": the test itself reveals 李四's number.
    shown = certifier.post(f"/submissions/{report}/roster/1/reveal", data={"reason": "核对名单"})
    assert shown.status_code == 200
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    return report


def _queue_ids(app, form_key):
    from workflows.models import Submission
    with app.app_context():
        return db.session.execute(select(Submission.id).where(Submission.form_key == form_key,
                                                              Submission.state == "submitted")).scalars().all()


def _entitled(url):
    """The answers that may carry a number: the audited show, and the filling unit's own form being filled."""
    return url.endswith("/reveal") or url.startswith("/forms/")


def test_no_raw_id_number_in_the_database_logs_urls_exports_pdfs_or_api(app, people, caplog):
    recorder = Recorder()
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy logs each statement and its parameters at INFO: caplog keeps them for the search.
    sql_log = logging.getLogger("sqlalchemy.engine")
    level = sql_log.level
    sql_log.setLevel(logging.INFO)
    try:
        _a_working_day(app, people, recorder)
    finally:
        sql_log.setLevel(level)

    found = []
    for where, text in _database_text(app):
        found += leaks(text, where)
    log = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    assert "SELECT" in log and "INSERT INTO service_record" in log  # the SQL was in the log to be searched
    found += leaks(log, "log")
    entitled = []
    for url, location, body in recorder.seen:
        found += leaks(url + " " + location, f"URL {url}")
        if _entitled(url):
            entitled.append((url, body))
        else:
            found += leaks(body, f"answer to {url}")
    assert found == []

    # The sweep finds a number where there is one: the show carried 李四's, the refused form the typed one.
    assert any(REPORTED[1] in body for url, body in entitled if url.endswith("/reveal"))
    assert any(REPORTED[1] in body for url, body in entitled if url.startswith("/forms/"))
    # What the sweep covered: PDFs, a ZIP of PDFs, XLSX exports, API answers, the pages.
    kinds = {url.split("?")[0].rsplit("/", 1)[-1] for url, _l, _b in recorder.seen}
    assert {"download", "records.xlsx", "volunteers", "queue", "lookup"} <= kinds
    downloads = [body for url, _l, body in recorder.seen if url.endswith("/download")]
    assert len(downloads) == 2 and all("志愿服务记录证明" in body.replace(" ", "") for body in downloads)
    with app.app_context():
        assert db.session.execute(select(User)).first() is not None
        assert len({volunteer(n).number for n in NUMBERS}) == 5  # all five became volunteers


@pytest.mark.parametrize("planted", ["log", "answer"])
def test_the_sweep_finds_a_planted_number(planted, app):
    """The search itself can fail: a number written to the log or into a page is found."""
    number = REPORTED[0]
    assert number.endswith("X")
    if planted == "log":
        text = f"workflows: certify row {number.lower()} failed"
    else:
        text = f"<td>{number[:14]}****</td>"
    assert leaks(text, planted)
    assert not leaks("*" * 14 + number[-4:], "masked")
