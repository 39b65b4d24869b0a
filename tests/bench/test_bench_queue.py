"""The reviewer's queue at the notice's scale, per backend: first and deep pages, counts, transitions.

Seeds ``seed_scale`` (1,000 units and 12,000 reports; a tenth at small
scale; the 10× variant only with WENMING_BENCH_SCALE=full), adds a pool of
fresh ``submitted`` reports at 颍州区 for the transitions, then measures for
a district reviewer and the city office:

- the queue's first page and a deep page (page 500, or the deepest there
  is: the table says which), keyset cursor walked there once, untimed;
- the filter bar's counts, on their own;
- the first page written by hand in SQL (``queue.raw_sql_first_page``) and
  the ratio of the two medians;
- one ``approve`` (perform + commit, each in its own transaction) and a bulk
  approve of 100 items;
- whole requests through the app as a reviewer's browser sends them — the
  queue page (first and a deep page, 50 items), the review page, the API
  queue, the home page, one approve and the 100-item bulk approve — with the
  SQL statements each runs (the budgets tests/test_statement_budget.py holds).

Every run starts as a request would: an empty session, grants not cached.
Figures are printed, never asserted; the asserts check that something real
was measured.
"""
import re
import time
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import event, func, select, tuple_

from tests.bench.conftest import FULL, median_ms, p95_ms, scale
from workflows.review import queue
from workflows.access import forget_grants
from workflows.api.tokens import issue_token
from workflows.demo.city import DEMO_PASSWORD
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import Submission, User
from workflows.demo.scale import add_reports, seed_scale

USERS = ("yz.reviewer", "city.office")
DEEP_PAGE = 500
TRANSITIONS = 30
BULK = 100


def test_queue_at_scale(app, backend, report):
    _bench(app, backend, report, factor=1, size=scale(0.1, 1))


@pytest.mark.skipif(not FULL, reason="the 10× variant (10,000 units, 120,000 reports) is slow: "
                                     "it runs only with WENMING_BENCH_SCALE=full")
def test_queue_at_ten_times_scale(app, backend, report):
    _bench(app, backend, report, factor=10, size=1)


def _bench(app, backend, report, factor, size):
    runs = scale(30, 200)
    label = f"{factor}× notice scale" + (f" × {size:g}" if size != 1 else "")
    with app.app_context():
        started = time.perf_counter()
        # The queue reads reports, not the registry: without volunteers the figures stay comparable
        # with earlier runs, and the 10× variant does not wait for 3,000,000 people.
        seeded = seed_scale(factor=factor, size=size, volunteers=False)
        seed_s = time.perf_counter() - started
        # Fresh items to approve later; at small scale they also give 颍州区's reviewer enough to page.
        pool = add_reports(TRANSITIONS + 2 * BULK + runs, state="submitted", district="YZ")
        if backend == "postgresql":
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        rows, plans = [], []
        for username in USERS:
            user_id = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
            rows.extend(_queue_rows(backend, username, user_id, runs, plans))
        plans = [(username if i == 0 else "", line) for username, lines in plans for i, line in enumerate(lines)]
        transitions = _transitions(backend, pool, runs)
    # Outside the app context above: each request then gets its own, as in a server (no shared g or session).
    requests = _requests(app, backend, pool[TRANSITIONS + BULK:], runs)
    report(f"seed_scale, {backend}", ["backend", "scale", "units", "reports", "audit events", "seconds"],
           [(backend, label, seeded["units"], seeded["reports"], seeded["audit_events_added"], f"{seed_s:.1f}")])
    report(f"reviewer's queue, {backend}, {label}",
           ["backend", "user", "queue rows", "measure", "median ms", "p95 ms", "÷ raw SQL"], rows)
    report(f"transitions, {backend}, {label}", ["backend", "measure", "items", "figure"], transitions)
    report(f"whole requests as yz.reviewer, {backend}, {label}",
           ["backend", "request", "items", "SQL statements", "median ms", "p95 ms"], requests)
    report(f"query plans of the deep page's biggest lane, {backend}", ["user", "plan"], plans)


def _fresh(user_id):
    """What a new request starts with: an empty session, no cached grants."""
    db.session.remove()
    forget_grants()
    return db.session.get(User, user_id)


def _timed(user_id, runs, call):
    samples = []
    for _ in range(runs):
        user = _fresh(user_id)
        started = time.perf_counter()
        call(user)
        samples.append(time.perf_counter() - started)
    return samples


def _key(submission):
    return submission.state_since, submission.id


def _queue_rows(backend, username, user_id, runs, plans):
    user = _fresh(user_id)
    lanes = queue.lanes(user)
    total = queue.counts(user, lanes, queue.Filters())["all"]
    first = queue.page(user, with_counts=False)
    assert total > queue.PAGE, f"{username}'s queue holds {total} items: too few to page"
    assert len(first.items) == queue.PAGE and first.next_cursor
    first_last = _key(first.items[-1])

    # Walk the cursor to page 500 (or the last page) once, untimed.
    number, cursor = 1, None
    while number < DEEP_PAGE:
        step = queue.page(user, cursor=cursor, with_counts=False)
        if step.next_cursor is None:
            break
        cursor, number = step.next_cursor, number + 1
    deep = queue.page(user, cursor=cursor, with_counts=False)
    assert number > 1 and deep.items
    assert _key(deep.items[0]) > first_last, "the deep page must start after page 1 ends"
    if number == DEEP_PAGE:
        assert len(deep.items) == queue.PAGE

    page_one = _timed(user_id, runs, lambda u: queue.page(u, with_counts=False))
    page_deep = _timed(user_id, runs, lambda u: queue.page(u, cursor=cursor, with_counts=False))
    counted = _timed(user_id, runs, lambda u: queue.counts(u, queue.lanes(u), queue.Filters()))
    raw = []
    for _ in range(runs):
        _fresh(user_id)
        connection = db.session.connection()
        started = time.perf_counter()
        ids = queue.raw_sql_first_page(connection, user_id, lanes)
        raw.append(time.perf_counter() - started)
    assert ids == [s.id for s in first.items], "the raw SQL must answer what the queue answers"

    plans.append((username, _plan(backend, user, lanes, cursor)))
    ratio = median_ms(page_one) / median_ms(raw)
    return [
        (backend, username, total, "page 1", f"{median_ms(page_one):.2f}", f"{p95_ms(page_one):.2f}",
         f"{ratio:.2f}×"),
        (backend, username, total, f"page {number}" + ("" if number == DEEP_PAGE else " (last)"),
         f"{median_ms(page_deep):.2f}", f"{p95_ms(page_deep):.2f}", ""),
        (backend, username, total, "counts (filter bar)", f"{median_ms(counted):.2f}", f"{p95_ms(counted):.2f}", ""),
        (backend, username, total, "page 1 in raw SQL", f"{median_ms(raw):.2f}", f"{p95_ms(raw):.2f}", "1.00×"),
    ]


def _transitions(backend, pool, runs):
    reviewer_id = db.session.execute(select(User.id).where(User.username == "yz.reviewer")).scalar_one()
    singles, bulk = pool[:TRANSITIONS], pool[TRANSITIONS:TRANSITIONS + BULK]
    samples = []
    for submission_id in singles:
        reviewer = _fresh(reviewer_id)
        started = time.perf_counter()
        result = perform(submission_id, "approve", reviewer)
        samples.append(time.perf_counter() - started)
        assert result.body["to"] == "approved"
    reviewer = _fresh(reviewer_id)
    started = time.perf_counter()
    for submission_id in bulk:
        perform(submission_id, "approve", reviewer)  # each its own perform + commit
    bulk_s = time.perf_counter() - started
    approved = db.session.execute(select(Submission.id).where(
        Submission.id.in_(singles + bulk), Submission.state == "approved")).scalars().all()
    assert len(approved) == len(singles) + len(bulk)
    return [
        (backend, "approve: perform + commit, median ms", len(singles), f"{median_ms(samples):.2f}"),
        (backend, "approve: perform + commit, p95 ms", len(singles), f"{p95_ms(samples):.2f}"),
        (backend, "bulk approve, s (each its own perform + commit)", len(bulk), f"{bulk_s:.2f}"),
    ]


def _requests(app, backend, pool, runs):
    """Requests through the whole app (sign-in cookie, access checks, template), timed and counted."""
    bulk, singles = pool[:BULK], pool[BULK:]
    client = app.test_client()
    assert client.post("/login", data={"username": "yz.reviewer", "password": DEMO_PASSWORD}).status_code == 302
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "yz.reviewer")).scalar_one()
        _row, token = issue_token(user, "bench")
        db.session.commit()
        engine = db.engine
        versions = dict(db.session.execute(select(Submission.id, Submission.row_version)
                                           .where(Submission.id.in_(pool))).all())
    first = client.get("/review/?limit=50").get_data(as_text=True)
    cursor = re.search(r'href="[^"]*cursor=([^"&]+)', first).group(1)
    api = {"Authorization": f"Bearer {token}"}
    rows = []
    for name, url, headers in (("queue page 1", "/review/?limit=50", None),
                               ("queue page 2", f"/review/?limit=50&cursor={cursor}", None),
                               ("review page", f"/submissions/{singles[0]}", None),
                               ("GET /api/v1/queue", "/api/v1/queue?limit=50", api),
                               ("home page", "/", None)):
        samples, statements = [], 0
        for _ in range(runs):
            with _counting(engine) as seen:
                started = time.perf_counter()
                response = client.get(url, headers=headers)
                samples.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
            statements = len(seen)
        rows.append((backend, name, 50 if "queue" in name else 1, statements, f"{median_ms(samples):.2f}",
                     f"{p95_ms(samples):.2f}"))
    samples = []
    for submission_id in singles[:runs]:
        with _counting(engine) as seen:
            started = time.perf_counter()
            response = client.post(f"/submissions/{submission_id}/actions/approve", data={"expected_version": versions[submission_id]})
            samples.append(time.perf_counter() - started)
        assert response.status_code == 302
    rows.append((backend, "approve (POST, redirect)", 1, len(seen), f"{median_ms(samples):.2f}",
                 f"{p95_ms(samples):.2f}"))
    form = {"ids": [str(i) for i in bulk], "action": "approve", **{f"v{i}": str(versions[i]) for i in bulk}}
    with _counting(engine) as seen:
        started = time.perf_counter()
        response = client.post("/review/bulk", data=form)
        bulk_s = time.perf_counter() - started
    assert response.status_code == 200
    with app.app_context():
        approved = db.session.execute(select(func.count()).select_from(Submission).where(
            Submission.id.in_(bulk), Submission.state == "approved")).scalar()
    assert approved == len(bulk)
    rows.append((backend, "bulk approve (POST), s", len(bulk), f"{len(seen)} ({len(seen) / len(bulk):.1f}/item)",
                 f"{bulk_s:.3f} s", ""))
    return rows


@contextmanager
def _counting(engine):
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plan(backend, user, lanes, cursor):
    """EXPLAIN of the deep page's query in the lane holding most items."""
    after = queue.decode_cursor(cursor) if cursor else None
    biggest = max(lanes, key=lambda lane: queue.counts(user, [lane], queue.Filters())["all"])
    stmt = queue._lane_query(biggest, queue.Filters(), None, backend == "sqlite")
    if after:
        stmt = stmt.where(tuple_(Submission.state_since, Submission.id) > after)
    stmt = stmt.order_by(Submission.state_since, Submission.id).limit(queue.PAGE + 1)
    compiled = stmt.compile(dialect=db.engine.dialect)
    params = compiled.construct_params(queue.bind_values(user))
    connection = db.session.connection()
    if backend == "sqlite":
        args = tuple(_sqlite_value(params[name]) for name in compiled.positiontup)
        found = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args).all()
        return [f"lane {biggest.state}:"] + [str(row[-1]) for row in found]
    found = connection.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + str(compiled), params).all()
    return [f"lane {biggest.state}:"] + [row[0] for row in found]


def _sqlite_value(value):
    # SQLAlchemy stores SQLite datetimes as text with microseconds.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value
