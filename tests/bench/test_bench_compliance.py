"""The compliance page at the notice's scale, per backend: the city office and one district office.

Seeds ``seed_scale`` (1,000 units, 12,000 activity reports of 2017; a tenth at small scale) and
``add_nominations`` (12,000 exemplar nominations of 2017 with their audit trails), then measures:

- ``evaluate`` for one month, all units (the public function other parts use);
- the whole year's table as ``compliance.build`` makes it (evaluation, roll-up, one page's sources);
- the same for the city office with nothing kept (``tallies.forget()`` and the kept grids cleared
  before each run): what the first request after a restart pays;
- the page itself through the test client (``GET /assessment/compliance?year=2017``), for the city
  office and for 颍州区's reviewer; and the XLSX export for the city office.

Every run starts as a request would: an empty session, grants not cached. Figures are printed,
never asserted; the asserts check that something real was measured (target p95 < 100 ms).
"""
import time

from sqlalchemy import func, select

from tests.bench.conftest import median_ms, p95_ms, scale
from workflows.access import forget_grants
from workflows.assessment.obligations import compliance, evaluate, evaluation, tallies
from workflows.demo.scale import seed_scale
from workflows.demo.scale_nominations import add_nominations
from workflows.extensions import db
from workflows.models import Submission, User

USERS = ("city.office", "yz.reviewer")


def _timed(runs, func_):
    samples = []
    result = None
    for _ in range(runs):
        db.session.remove()
        forget_grants()
        started = time.perf_counter()
        result = func_()
        samples.append(time.perf_counter() - started)
    return samples, result


def test_compliance_at_scale(app, backend, report):
    size = scale(0.1, 1)
    runs = scale(15, 60)
    with app.app_context():
        started = time.perf_counter()
        seeded = seed_scale(size=size)
        nominations, events = add_nominations(year=2017, size=size)
        seed_s = time.perf_counter() - started
        if backend == "postgresql":
            # What autovacuum does soon after a bulk load: statistics and the visibility map (index-only scans).
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(db.text("VACUUM ANALYZE"))
        counts = dict(db.session.execute(select(Submission.form_key, func.count()).group_by(Submission.form_key)).all())
        ids = {name: db.session.execute(select(User.id).where(User.username == name)).scalar_one() for name in USERS}
        rows = []
        samples, cells = _timed(runs, lambda: evaluate("2017-03"))
        assert cells
        rows.append((backend, "evaluate(2017-03), all units", len(cells), f"{median_ms(samples):.1f}",
                     f"{p95_ms(samples):.1f}"))
        for name in USERS:
            def build():
                user = db.session.get(User, ids[name])
                return compliance.build(user, compliance.Filters(year=2017))
            samples, table = _timed(runs, build)
            assert table.total
            rows.append((backend, f"compliance.build, {name}", f"{table.total} units × 12",
                         f"{median_ms(samples):.1f}", f"{p95_ms(samples):.1f}"))
            if name == "city.office":
                def cold():
                    tallies.forget()
                    evaluation._grids.clear()
                    return build()
                samples, table = _timed(max(3, runs // 5), cold)
                rows.append((backend, "compliance.build, city.office, nothing kept", f"{table.total} units × 12",
                             f"{median_ms(samples):.1f}", f"{p95_ms(samples):.1f}"))
    client = app.test_client()
    for name in USERS:
        client.post("/login", data={"username": name, "password": "wenming-demo"})
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get("/assessment/compliance?year=2017")
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200
        rows.append((backend, f"GET /assessment/compliance, {name}", "page 1 of 50 units",
                     f"{median_ms(samples):.1f}", f"{p95_ms(samples):.1f}"))
        if name == "city.office":
            xlsx = []
            for _ in range(max(3, runs // 10)):
                started = time.perf_counter()
                assert client.get("/assessment/compliance.xlsx?year=2017").status_code == 200
                xlsx.append(time.perf_counter() - started)
            rows.append((backend, "GET /assessment/compliance.xlsx, city.office", "all units",
                         f"{median_ms(xlsx):.1f}", f"{p95_ms(xlsx):.1f}"))
        client.post("/logout")
    report(f"seeding, {backend}", ["backend", "units", "reports", "nominations", "nomination events", "seconds"],
           [(backend, seeded["units"], counts.get("activity_report"), counts.get("exemplar_nomination"), events,
             f"{seed_s:.1f}")])
    report(f"compliance, {backend} (target p95 < 100 ms)", ["backend", "measure", "size", "median ms", "p95 ms"],
           rows)
