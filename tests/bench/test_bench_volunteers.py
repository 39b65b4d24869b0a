"""Volunteers at the notice's scale, per backend: certifying, the volunteers' pages, leaderboards, certificates.

Seeds ``seed_scale`` with its volunteers (1,000 units, 12,000 reports,
300,000 people, 1,000,000 service records; a hundredth at small scale),
runs VACUUM ANALYZE on PostgreSQL after the bulk load, then measures:

- certifying one activity of 50 roster rows (45 registered people with room
  left on that day, 5 new ones who get the next volunteer numbers): the
  ``certify`` transition through ``perform`` with its commit, as the app
  does it, on fresh approved reports, each run from an empty session;
- through the test client, signed in: one volunteer's page (a district
  certifier, over volunteers of his units, the busiest among them), a unit's
  volunteer list (the unit's filler sees its own volunteers: the list has
  no ``?unit=`` filter, what a viewer sees is set by their grants) and the
  district certifier's list; p95 against the 50 ms target;
- the district leaderboard of the year (median against 200 ms) and, for
  scale, the city's, with the plan of each one's slowest statement on
  PostgreSQL;
- on SQLite only, since rendering does not depend on the database: one
  certificate through its job against bare WeasyPrint on the same HTML, and
  one ZIP job of 500 certificates (20 at small scale) against bare
  WeasyPrint rendering the same 500 HTMLs with one shared font
  configuration, as the job does (ratio target ≤ 1.15); ours and bare take
  turns, the best of each is kept, and bare must give the very bytes the job
  wrote. The seed for these is smaller (a tenth at full scale: enough for a
  unit with 500 volunteers with service).

Figures are printed, never asserted; the asserts check that something real was measured.
"""
import io
import random
import time
import zipfile
from datetime import date

import pytest
from flask import url_for
from flask_babel import get_locale
from sqlalchemy import event, func, select
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from werkzeug.security import generate_password_hash

from tests.bench.conftest import FULL, median_ms, p95_ms, scale
from workflows import pdf
from workflows.access import forget_grants
from workflows.demo.city import DEMO_PASSWORD
from workflows.demo.people import id_number
from workflows.demo.scale import add_reports, seed_scale
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.filling.personal_data import protect_number
from workflows.jobs import enqueue, result_path
from workflows.models import JobRun, ServiceRecord, Submission, Unit, User, Volunteer, VolunteerMembership
from workflows.models.volunteers import Certificate, CertificateBatch
from workflows.volunteers import queries
from workflows.volunteers.certificate_batches import JOB_KIND as ZIP_JOB, records_by_volunteer
from workflows.volunteers.certificates import (CODE_PLACEHOLDER, JOB_KIND as PDF_JOB, certificate_html, issue,
                                               new_certificate, number_base, verify_url_of)
from workflows.volunteers.ledger import hours_on

YEAR = 2017
PERIOD = (date(YEAR, 1, 1), date(YEAR, 12, 31))
ISSUED_ON = date(YEAR + 1, 1, 15)
BUSY_DAY = date(YEAR, 3, 5)  # 学雷锋纪念日: the year's busiest day, so the 24-hour check has records to add up
ROSTER, NEW_PEOPLE = 50, 5
CERTIFIER, UNIT_FILLER, OFFICE = "yz.certifier", "yz.u1", "city.office"
ISSUER = {"person_in_charge": "周主任", "officer": "吴经办", "contact": "0558-1234567", "remarks": ""}
TARGET_PAGE_MS, TARGET_BOARD_MS, TARGET_RATIO = 50, 200, 1.15


def test_volunteers_at_scale(app, backend, report):
    size = scale(0.01, 1)
    with app.app_context():
        started = time.perf_counter()
        seeded = seed_scale(size=size)
        seed_s = time.perf_counter() - started
        vacuum_s = _vacuum_analyze(backend)
    certified = _certify(app, scale(8, 30))
    measures, plans = _pages(app, backend, scale(20, 200))
    report(f"seed_scale with volunteers, {backend}",
           ["backend", "scale", "units", "reports", "volunteers", "records", "seed s", "VACUUM ANALYZE s"],
           [(backend, f"notice × {size:g}", seeded["units"], seeded["reports"], seeded["volunteers"],
             seeded["records"], f"{seed_s:.1f}", f"{vacuum_s:.1f}" if vacuum_s is not None else "—")])
    report(f"volunteers, {backend}, notice × {size:g}",
           ["backend", "measure", "n", "median ms", "p95 ms", "target"], [(backend, *row) for row in
                                                                          certified + measures])
    if plans:
        report(f"query plans of the slowest statement of each leaderboard, {backend}", ["leaderboard", "plan"], plans)


# --- the load ------------------------------------------------------------------------------------------------

def _vacuum_analyze(backend):
    """Autovacuum is off: after a bulk load PostgreSQL has neither statistics nor a visibility map."""
    if backend != "postgresql":
        return None
    db.session.commit()
    started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(db.text("VACUUM ANALYZE"))  # VACUUM cannot run inside a transaction
    return time.perf_counter() - started


def _fresh(user_id):
    """What a new request starts with: an empty session, no cached grants."""
    db.session.remove()
    forget_grants()
    return db.session.get(User, user_id)


def _user_id(username):
    return db.session.execute(select(User.id).where(User.username == username)).scalar_one()


# --- certifying ---------------------------------------------------------------------------------------------

def _certify(app, runs):
    with app.test_request_context():
        office = _user_id(OFFICE)
        reports = add_reports(runs, state="approved", district="YZ")
        _fifty_rows(reports)
        samples = []
        for submission_id in reports:
            actor = _fresh(office)
            started = time.perf_counter()
            result = perform(submission_id, "certify", actor)
            samples.append(time.perf_counter() - started)
            assert result.body["to"] == "certified"
            written = db.session.execute(select(func.count()).select_from(ServiceRecord).where(
                ServiceRecord.submission_id == submission_id)).scalar()
            assert written == ROSTER
    return [(f"certify one activity of {ROSTER} rows ({NEW_PEOPLE} new people): perform + commit", len(samples),
             f"{median_ms(samples):.1f}", f"{p95_ms(samples):.1f}", "")]


def _fifty_rows(reports):
    """Give each report a roster of 45 registered people (different ones, at most 16 h on the day) and 5 new."""
    rng = random.Random(5)
    registered = ROSTER - NEW_PEOPLE
    ids = db.session.execute(select(Volunteer.id).where(Volunteer.status == "active")).scalars().all()
    chosen = rng.sample(ids, min(len(ids), 3 * registered * len(reports)))
    that_day = hours_on(chosen, BUSY_DAY)
    chosen = [i for i in chosen if that_day.get(i, 0) <= 16][:registered * len(reports)]
    assert len(chosen) == registered * len(reports), "too few registered people to fill the rosters"
    people = {v.id: v for v in db.session.execute(select(Volunteer).where(Volunteer.id.in_(chosen))).scalars()}
    taken = set(db.session.execute(select(Volunteer.id_hash)).scalars())
    for index, submission_id in enumerate(reports):
        rows = [{"name": people[i].name,
                 "id_number": {"masked": people[i].id_masked, "hash": people[i].id_hash, "enc": people[i].id_enc},
                 "hours": rng.choice((2.0, 3.0, 4.0, 6.5))}
                for i in chosen[index * registered:(index + 1) * registered]]
        while len(rows) < ROSTER:
            envelope = protect_number(id_number("341202", date(1990, 1, 1 + index % 28), rng.randrange(1000)))
            if envelope["hash"] not in taken:
                taken.add(envelope["hash"])
                rows.append({"name": "新志愿者", "id_number": envelope, "hours": 3.0})
        submission = db.session.get(Submission, submission_id)
        submission.answers = dict(submission.answers, roster=rows, held_on=BUSY_DAY.isoformat(),
                                  volunteer_count=len(rows), total_hours=sum(r["hours"] for r in rows))
    db.session.commit()


# --- pages --------------------------------------------------------------------------------------------------

def _pages(app, backend, runs):
    with app.test_request_context():
        numbers = _visible_numbers(_user_id(CERTIFIER), runs)
        own = db.session.execute(select(func.count()).select_from(VolunteerMembership).join(
            Unit, Unit.id == VolunteerMembership.unit_id).where(Unit.code == "YZ-U1")).scalar()
    certifier, filler, office = _signed_in(app, CERTIFIER), _signed_in(app, UNIT_FILLER), _signed_in(app, OFFICE)
    pages = [_timed(certifier, [f"/volunteers/{n}" for n in numbers], lambda body, url: url.rsplit("/", 1)[1] in body)]
    rows = [("a volunteer's page /volunteers/NUMBER (district certifier)", len(numbers), *pages[0],
             f"p95 < {TARGET_PAGE_MS}")]
    lists = [("a unit's volunteer list /volunteers/ (its filler: "
              f"{own} volunteers)", filler, "/volunteers/"),
             ("the district certifier's volunteer list /volunteers/", certifier, "/volunteers/")]
    for label, client, url in lists:
        figures = _timed(client, [url] * runs, lambda body, _url: body.count("<tr><td><a href=\"/volunteers/FY") > 0)
        rows.append((label, runs, *figures, f"p95 < {TARGET_PAGE_MS}"))
    boards = [("district leaderboard of the year", certifier, f"/volunteers/leaderboard?scope=district&year={YEAR}",
               f"median < {TARGET_BOARD_MS}"),
              ("the city's leaderboard of the year (city office)", office,
               f"/volunteers/leaderboard?scope=unit&year={YEAR}", "—")]
    plans = []
    for label, client, url, target in boards:
        figures = _timed(client, [url] * scale(10, 30), lambda body, _url: body.count("<tr><td>") >= 10)
        rows.append((label, scale(10, 30), *figures, target))
        if backend == "postgresql":
            plans.extend((label if i == 0 else "", line) for i, line in enumerate(_plan(app, client, url)))
    return rows, plans


def _plan(app, client, url):
    """EXPLAIN ANALYZE of the slowest statement that one request to ``url`` runs (PostgreSQL)."""
    seen = []

    def before(_conn, _cursor, _statement, _parameters, context, _many):
        context.bench_started = time.perf_counter()

    def after(_conn, _cursor, statement, parameters, context, _many):
        seen.append((time.perf_counter() - context.bench_started, statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    _seconds, statement, parameters = max(seen, key=lambda s: s[0])
    with app.app_context():
        found = db.session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters).all()
        db.session.rollback()
    return [row[0] for row in found]


def _visible_numbers(certifier_id, count):
    """Numbers of volunteers serving where the certifier holds a role: the busiest quarter, the rest at random."""
    paths = queries.visible_paths(db.session.get(User, certifier_id))
    visible = (select(Volunteer.number, Volunteer.person_times).join(VolunteerMembership).join(
        Unit, Unit.id == VolunteerMembership.unit_id).where(Unit.in_any_subtree(paths)).distinct())
    rows = db.session.execute(visible).all()
    busiest = [n for n, _t in sorted(rows, key=lambda r: -r[1])[:count // 4]]
    rest = random.Random(3).sample([n for n, _t in rows if n not in set(busiest)], count - len(busiest))
    return busiest + rest


def _signed_in(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD}).status_code == 302
    return client


def _timed(client, urls, looks_right):
    """(median ms, p95 ms) of GET ``urls``, after one untimed request; each answer is checked."""
    client.get(urls[0])
    samples = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and looks_right(body, url), (url, response.status_code)
    return f"{median_ms(samples):.1f}", f"{p95_ms(samples):.1f}"


# --- certificates -------------------------------------------------------------------------------------------

@pytest.fixture
def cheap_passwords(monkeypatch):
    """The demo's ~90 accounts hashed cheaply: this test times rendering, not the seed."""
    def cheap(password):
        return generate_password_hash(password, method="pbkdf2:sha256:1000")
    monkeypatch.setattr("workflows.models.users.generate_password_hash", cheap)
    monkeypatch.setattr("workflows.demo.scale.generate_password_hash", cheap)


def test_certificate_pdfs_against_bare_weasyprint(app, backend, report, cheap_passwords):
    if backend != "sqlite":
        pytest.skip("rendering does not depend on the database; measured once, on SQLite")
    count = scale(20, 500)
    with app.test_request_context():
        # Enough people for a unit with 500 volunteers with service in the year, well short of the full load.
        seed_scale(size=scale(0.01, 0.1))
        actor = db.session.get(User, _user_id(OFFICE))
        lang = str(get_locale())
        HTML(string="<p>warm-up 预热</p>").write_pdf(io.BytesIO())
        single = _single_certificate(app, actor, lang, scale(3, 10))
        batch = _certificate_zip(app, actor, lang, count, 2)
    ours_s, bare_s, pages = single
    rows = [("one certificate PDF (its job)", 1, pages, f"{ours_s:.3f}", f"{pages / ours_s:.1f}", f"{bare_s:.3f}",
             f"{pages / bare_s:.1f}", f"{ours_s / bare_s:.2f}", f"≤ {TARGET_RATIO}")]
    ours_s, bare_s, pages, made = batch
    rows.append((f"{made} certificates as one ZIP job", made, pages, f"{ours_s:.2f}", f"{pages / ours_s:.1f}",
                 f"{bare_s:.2f}", f"{pages / bare_s:.1f}", f"{ours_s / bare_s:.2f}", f"≤ {TARGET_RATIO}"))
    report("certificates against bare WeasyPrint (best of the runs, interleaved)",
           ["measure", "certificates", "pages", "ours s", "ours pages/s", "bare s", "bare pages/s", "ratio",
            "target"], rows)


def _run_job(app):
    """Commit (which hands the job to the in-process runner) and wait for it; returns the seconds."""
    started = time.perf_counter()
    db.session.commit()
    app.extensions["wenming_jobs"].wait_idle()
    return time.perf_counter() - started


def _finished(run_id):
    db.session.expire_all()
    run = db.session.get(JobRun, run_id)
    assert run.state == "done", (run.state, run.error)
    return result_path(run).read_bytes()


def _single_certificate(app, actor, lang, rounds):
    """A volunteer with the most records of the year: the job's best time, bare WeasyPrint's on the same HTML."""
    busiest = db.session.execute(select(ServiceRecord.volunteer_id).where(ServiceRecord.is_current.is_(True))
                                 .group_by(ServiceRecord.volunteer_id).order_by(func.count().desc(),
                                                                                ServiceRecord.volunteer_id)
                                 .limit(1)).scalar_one()
    volunteer = db.session.get(Volunteer, busiest)
    unit = db.session.get(Unit, volunteer.memberships[0].unit_id)
    ours, bare, pages = [], [], 0
    for _ in range(rounds):
        certificate = issue(volunteer, unit, actor, *PERIOD, issued_on=ISSUED_ON, **ISSUER)
        verify_url = url_for("certificates.verify", code=certificate.code, _external=True)
        run = enqueue(PDF_JOB, {"certificate_id": certificate.id, "verify_url": verify_url, "lang": lang},
                      requested_by=actor, unit=unit)
        certificate.job_run_id = run.id
        run_id, certificate_id = run.id, certificate.id
        ours.append(_run_job(app))
        data = _finished(run_id)
        assert data.startswith(b"%PDF")
        certificate = db.session.get(Certificate, certificate_id)
        html = certificate_html(certificate, verify_url, lang)
        started = time.perf_counter()
        document = HTML(string=html, base_url=pdf.STATIC_BASE).render()
        plain = document.write_pdf()
        bare.append(time.perf_counter() - started)
        pages = len(document.pages)
        assert plain == data, "bare WeasyPrint must have rendered the very document of the job"
    return min(ours), min(bare), pages


def _certificate_zip(app, actor, lang, count, rounds):
    """One ZIP job of the unit's first ``count`` volunteers, then bare WeasyPrint on the same HTMLs, ``rounds`` times.

    Returns the best times of each, the pages and the certificates per ZIP.
    """
    unit = _unit_with_most_served(count)
    ours, bare = [], []
    for _ in range(rounds):
        run_id, batch_id, verify_base = _batch(unit, actor, lang, count)
        ours.append(_run_job(app))
        with zipfile.ZipFile(io.BytesIO(_finished(run_id))) as archive:
            entries = [archive.read(info) for info in archive.infolist()]
        certificates = db.session.execute(select(Certificate).where(Certificate.batch_id == batch_id)
                                          .order_by(Certificate.number)).scalars().all()
        assert len(entries) == len(certificates) and all(e.startswith(b"%PDF") for e in entries)
        htmls = [certificate_html(c, verify_url_of(verify_base, c), lang) for c in certificates]
        fonts, pages, rendered = FontConfiguration(), 0, []
        started = time.perf_counter()
        for html in htmls:
            document = HTML(string=html, base_url=pdf.STATIC_BASE).render(font_config=fonts)
            rendered.append(document.write_pdf())
            pages += len(document.pages)
        bare.append(time.perf_counter() - started)
        assert rendered == entries, "bare WeasyPrint must have rendered the very documents of the ZIP"
    return min(ours), min(bare), pages, len(entries)


def _batch(unit, actor, lang, count):
    """The unit's first ``count`` volunteers with service, numbered and enqueued as ``issue_batch`` does it."""
    grouped = list(records_by_volunteer(unit, *PERIOD).items())[:count]
    batch = CertificateBatch(unit_id=unit.id, period_from=PERIOD[0], period_to=PERIOD[1], issued_on=ISSUED_ON,
                             count=len(grouped), requested_by_id=actor.id)
    db.session.add(batch)
    db.session.flush()
    prefix, used = number_base(unit, ISSUED_ON.year)
    for offset, (volunteer_id, records) in enumerate(grouped, start=1):
        new_certificate(volunteer_id, unit, actor, records, f"{prefix}{used + offset:05d}", *PERIOD, ISSUED_ON,
                        batch_id=batch.id, **ISSUER)
    verify_base = url_for("certificates.verify", code=CODE_PLACEHOLDER, _external=True)
    run = enqueue(ZIP_JOB, {"batch_id": batch.id, "verify_base": verify_base, "lang": lang}, requested_by=actor,
                  unit=unit)
    batch.job_run_id = run.id
    return run.id, batch.id, verify_base


def _unit_with_most_served(count):
    """The unit whose volunteers with service in the year are most; at least ``count`` of them if it can be."""
    served = (select(VolunteerMembership.unit_id, func.count(func.distinct(ServiceRecord.volunteer_id)).label("n"))
              .join(ServiceRecord, ServiceRecord.volunteer_id == VolunteerMembership.volunteer_id)
              .where(ServiceRecord.is_current.is_(True), ServiceRecord.held_on.between(*PERIOD))
              .group_by(VolunteerMembership.unit_id).order_by(func.count(func.distinct(
                  ServiceRecord.volunteer_id)).desc(), VolunteerMembership.unit_id).limit(1))
    unit_id, served_there = db.session.execute(served).one()
    if FULL:
        assert served_there >= count, f"the biggest unit has only {served_there} volunteers with service"
    return db.session.get(Unit, unit_id)
