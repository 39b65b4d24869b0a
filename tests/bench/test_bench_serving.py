"""The app as production serves it: a real gunicorn with deploy/gunicorn.conf.py, 4 workers, 1 and 20 clients.

Seeds ``seed_scale`` (1,000 units and 12,000 reports; a tenth at small scale;
the 10× variant only with WENMING_BENCH_SCALE=full), starts gunicorn on the
same database (tests/gunicorn_server.py: what bin/serve runs), signs the
clients in as 颍州区's reviewer through the real /login form with its CSRF
token, and for 30 s (3 s at small scale) per row loads it with 1 client and
then with 20 at once, each on its own keep-alive connection:

- the reviewer's queue page, ``GET /review/``, signed in by cookie;
- ``GET /api/v1/queue`` with an API token;
- both of them also with one client calling the app in this process (Flask's
  test client): the difference is the cost of HTTP and gunicorn;
- approve, ``POST /api/v1/submissions/N/actions/approve``, each item of a
  pool of fresh ``submitted`` reports approved once; each row has its own
  pool, added after the reading rows (so they see the seeded queue).

Prints requests, requests/s and p50/p95/p99 per row; asserts nothing about
times. Every answer must be the expected one (200): an error is a bug, and the
test fails on the first row that has any. Rerun with
    WENMING_BENCH_SCALE=full bin/test tests/bench/test_bench_serving.py -k postgresql
(WEB_THREADS=4 in front: the same with gthread workers).
"""
import http.client
import json
import os
import re
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from tests.bench.conftest import FULL, scale
from tests.gunicorn_server import app_environment, serving, tail
from workflows.api import issue_token
from workflows.demo.city import DEMO_PASSWORD
from workflows.demo.scale import add_reports, seed_scale
from workflows.extensions import db
from workflows.models import Submission, User

WORKERS = 4
CLIENTS = (1, 20)
REVIEWER = "yz.reviewer"
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def test_serving_at_scale(app, backend, report, tmp_path):
    _bench(app, backend, report, tmp_path, factor=1, size=scale(0.1, 1))


@pytest.mark.skipif(not FULL, reason="the 10× variant (10,000 units, 120,000 reports) is slow: "
                                     "it runs only with WENMING_BENCH_SCALE=full")
def test_serving_at_ten_times_scale(app, backend, report, tmp_path):
    _bench(app, backend, report, tmp_path, factor=10, size=1)


def _bench(app, backend, report, tmp_path, factor, size):
    duration = scale(3, 30)
    label = f"{factor}×" + (f" × {size:g}" if size != 1 else "")
    with app.app_context():
        started = time.perf_counter()
        seeded = seed_scale(factor=factor, size=size, volunteers=False)
        seed_s = time.perf_counter() - started
        reviewer = db.session.execute(select(User).where(User.username == REVIEWER)).scalar_one()
        _token, api_token = issue_token(reviewer, "serving benchmark")
        db.session.commit()
        _analyze(backend)
    load_before = os.getloadavg()[0]
    log_path = tmp_path / "gunicorn.log"
    env = {**app_environment(app), "WEB_CONCURRENCY": str(WORKERS)}
    # The config file's worker class, unless WEB_THREADS in the environment asks for gthread.
    threads = int(os.environ.get("WEB_THREADS") or 1)
    workers = f"{WORKERS} × sync" if threads == 1 else f"{WORKERS} × gthread, {threads} threads"
    started = time.perf_counter()
    with serving(env, log_path) as base_url:
        start_s = time.perf_counter() - started
        clients = [_Client(base_url, api_token) for _ in range(max(CLIENTS))]
        for client in clients:
            client.sign_in(REVIEWER, DEMO_PASSWORD)
        rows = []

        def measure(endpoint, call, pool=None, counts=CLIENTS, group=clients, served_by="gunicorn"):
            for count in counts:
                row = _load(group[:count], duration, call, pool)
                assert row.requests > 0, f"{endpoint}, {count} clients: no request was made"
                rows.append((backend, label, endpoint, served_by, count, *row.figures()))
                assert row.errors == 0, (f"{endpoint}, {count} clients: {row.errors} of {row.requests} requests "
                                         f"failed, e.g. {row.failures}\n{tail(log_path)}")

        for client in clients:  # each worker has rendered the pages once before anything is timed
            client.queue_page()
            client.api_queue()
        measure("GET /review/ (queue page)", _Client.queue_page)
        # The same page straight through the app, no HTTP: what is left is the app's own time.
        in_process = [_InProcessClient(app, api_token)]
        in_process[0].sign_in(REVIEWER, DEMO_PASSWORD)
        measure("GET /review/ (queue page)", _Client.queue_page, counts=(1,), group=in_process,
                served_by="in-process")
        measure("GET /api/v1/queue", _Client.api_queue)
        measure("GET /api/v1/queue", _Client.api_queue, counts=(1,), group=in_process, served_by="in-process")

        # A pool of items for each row, so that one row's approvals never leave the next with nothing to do:
        # 1,500 in 3 s (small scale) or 8,000 in 30 s allow 500 and 266 approvals a second.
        pools = []
        for count in CLIENTS:
            with app.app_context():
                pool = add_reports(scale(1500, 8000), state="submitted", district=REVIEWER.split(".")[0].upper())
                _analyze(backend)
            pools.append((pool, _Pool(pool)))
            measure("POST …/actions/approve (API)", _Client.approve, pools[-1][1], counts=(count,))
    with app.app_context():
        for pool, approvals in pools:
            approved = db.session.execute(select(func.count()).select_from(Submission).where(
                Submission.id.in_(pool), Submission.state == "approved")).scalar()
            assert approved == approvals.taken, "every approve answered 200 must have approved its item, once"
    # The clients share the machine with gunicorn and the database; anything else running shows here.
    load = f"{load_before:.1f} → {os.getloadavg()[0]:.1f}"
    used = ", ".join(f"{approvals.taken} of {len(pool)}" for pool, approvals in pools) + " used"

    report(f"serving: seed_scale and gunicorn, {backend}",
           ["backend", "scale", "units", "reports", "seed s", "gunicorn", "start s", "s per row", "approve pool",
            "load (1 min)"],
           [(backend, label, seeded["units"], seeded["reports"], f"{seed_s:.1f}", workers,
             f"{start_s:.1f}", duration, used, load)])
    report(f"serving through gunicorn, {backend}, {label} notice scale",
           ["backend", "scale", "endpoint", "served by", "clients", "requests", "requests/s", "p50 ms", "p95 ms", "p99 ms",
            "errors"], rows)


def _analyze(backend):
    if backend == "postgresql":
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


class _Client:
    """One person's browser (or API client): one connection, kept open while the server allows."""

    def __init__(self, base_url, api_token):
        host, port = base_url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)
        self.cookies = {}
        self.bearer = {"Authorization": f"Bearer {api_token}"}

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # the next request opens a new one
            raise
        for header in response.headers.get_all("Set-Cookie") or ():
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, data

    def fresh(self):
        self.connection.close()  # the next request opens a new connection: none the server may have timed out

    def sign_in(self, username, password):
        status, page = self.request("GET", "/login")
        assert status == 200, status
        csrf = CSRF_FIELD.search(page.decode()).group(1)
        status, _body = self.request("POST", "/login", urlencode(
            {"csrf_token": csrf, "username": username, "password": password}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, f"signing in as {username} answered {status}"

    def queue_page(self):
        return self.request("GET", "/review/")

    def api_queue(self):
        return self.request("GET", "/api/v1/queue", headers=self.bearer)

    def approve(self, submission_id):
        return self.request("POST", f"/api/v1/submissions/{submission_id}/actions/approve", b"{}",
                            {**self.bearer, "Content-Type": "application/json"})


class _InProcessClient(_Client):
    """The app's test client in this process: the request's own time, without sockets or gunicorn."""

    def __init__(self, app, api_token):
        self.client = app.test_client()
        self.bearer = {"Authorization": f"Bearer {api_token}"}

    def request(self, method, path, body=None, headers=None):
        response = self.client.open(path, method=method, data=body, headers=headers or {})
        return response.status_code, response.get_data()

    def sign_in(self, username, password):
        # The tests' app checks no CSRF token.
        status, _body = self.request("POST", "/login", urlencode({"username": username, "password": password}),
                                     {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, f"signing in as {username} answered {status}"

    def fresh(self):
        pass


class _Pool:
    """Items to approve, each handed out once; ``taken`` counts the approvals that answered 200."""

    def __init__(self, ids):
        self._ids = iter(ids)
        self._lock = threading.Lock()
        self.taken = 0

    def next(self):
        with self._lock:
            return next(self._ids, None)

    def done(self):
        with self._lock:
            self.taken += 1


class _Row:
    def __init__(self):
        self.latencies, self.failures, self.errors, self.elapsed = [], [], 0, 0.0
        self.lock = threading.Lock()

    @property
    def requests(self):
        return len(self.latencies)

    def record(self, seconds, failure=None):
        with self.lock:
            self.latencies.append(seconds)
            if failure is not None:
                self.errors += 1
                if len(self.failures) < 3:
                    self.failures.append(failure)

    def figures(self):
        ordered = sorted(self.latencies)

        def ms(share):
            return f"{ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] * 1000:.1f}"
        return (self.requests, f"{self.requests / self.elapsed:.1f}", ms(0.5), ms(0.95), ms(0.99), self.errors)


def _load(clients, duration, call, pool=None):
    """Every client calls ``call`` back to back for ``duration`` s (or until the pool is used up), all at once."""
    row = _Row()
    start = threading.Barrier(len(clients) + 1)
    window = {}

    def run(client):
        start.wait()
        while time.perf_counter() < window["deadline"]:
            item = None
            if pool is not None:
                item = pool.next()
                if item is None:
                    return
            began = time.perf_counter()
            try:
                status, body = call(client) if item is None else call(client, item)
            except (OSError, http.client.HTTPException) as exc:
                row.record(time.perf_counter() - began, f"{type(exc).__name__}: {exc}")
                continue
            seconds = time.perf_counter() - began
            failure = None
            if status != 200:
                failure = f"{status}: {body[:200]!r}"
            elif pool is not None and json.loads(body).get("to") != "approved":
                failure = f"200 but {body[:200]!r}"
            row.record(seconds, failure)
            if pool is not None and failure is None:
                pool.done()

    for client in clients:
        client.fresh()
    threads = [threading.Thread(target=run, args=(client,), daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    window["deadline"] = began + duration
    start.wait()
    for thread in threads:
        thread.join()
    row.elapsed = time.perf_counter() - began
    return row
