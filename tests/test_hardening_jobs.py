"""Hardening (issue 7, finding 12): a dead worker's job settles fast, the worker
outlives a Redis outage, no RQ scheduler is left behind, job errors are shown
to people in their language."""
import os
import signal
import socket
import threading
import time
from pathlib import Path

from redis import Redis

from tests import job_kinds  # noqa: F401 - registers the test job kinds
from workflows import jobs
from workflows.extensions import db

from .test_jobs import _row, _wait_for  # one copy of the polling helpers

SETTLE_SECONDS = 30


def _alive(pid):
    """A zombie (dead, not yet reaped by whoever adopted it) counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _children(pid):
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except FileNotFoundError:
            pass
    return found


def _kill_leftovers(pids):
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _enqueue(app, kind, **params):
    with app.app_context():
        run_id = jobs.enqueue(kind, params).id
        db.session.commit()
    return run_id


def test_a_killed_workers_job_settles_within_30s_and_leaves_no_scheduler(rq_app, run_worker):
    run_id = _enqueue(rq_app, "test_hold_once", seconds=60)
    worker = run_worker(burst=False)
    leftovers = set()
    try:
        running = _wait_for(lambda: (r := _row(rq_app, run_id)).state == "running" and r.worker_pid and r,
                            what="the job to start")
        time.sleep(1)  # let a scheduler child, if the worker starts one, take its lock
        leftovers = _children(worker.pid) | {running.worker_pid}
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        killed_at = time.monotonic()

        def settled():
            with rq_app.app_context():
                jobs.reap()
            return _row(rq_app, run_id).state == "failed"
        while time.monotonic() - killed_at < SETTLE_SECONDS and not settled():
            time.sleep(1)
        assert _row(rq_app, run_id).state == "failed"
        redis = Redis.from_url(rq_app.config["REDIS_URL"])
        assert not redis.exists(f"rq:scheduler-lock:{rq_app.config['RQ_QUEUE']}")
        assert not [pid for pid in leftovers if _alive(pid)]  # horse and any scheduler died with the worker
    finally:
        worker.kill()
        worker.wait()
        _kill_leftovers(leftovers)


class FlakyRedisProxy:
    """A TCP proxy to Redis that can drop every connection and refuse new ones for a while."""

    def __init__(self, target_url):
        from urllib.parse import urlsplit
        parts = urlsplit(target_url)
        self.target = (parts.hostname, parts.port or 6379)
        self.db = parts.path
        self.lock = threading.Lock()
        self.sockets = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}{self.db}"

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                time.sleep(0.05)
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def outage(self, seconds):
        """Cut every connection and refuse new ones for ``seconds``."""
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets = []
        time.sleep(seconds)
        self.listener = socket.create_server(("127.0.0.1", self.port))

    def close(self):
        self.closed = True
        self.listener.close()


def test_the_worker_outlives_a_redis_outage_mid_job(rq_app, run_worker):
    proxy = FlakyRedisProxy(rq_app.config["REDIS_URL"])
    rq_app.config["REDIS_URL"] = proxy.url  # the worker reaches Redis through the proxy
    first = _enqueue(rq_app, "test_sleep", seconds=3)
    worker = run_worker(burst=False)
    try:
        _wait_for(lambda: _row(rq_app, first).state == "running", what="the first job to start")
        proxy.outage(8)
        _wait_for(lambda: _row(rq_app, first).state == "done", seconds=90, what="the first job to finish")
        assert worker.poll() is None, worker.communicate(timeout=10)[0].decode()[-3000:]
        second = _enqueue(rq_app, "test_sleep", seconds=0)
        _wait_for(lambda: _row(rq_app, second).state == "done", seconds=90, what="a next job to be worked")
        assert worker.poll() is None
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except Exception:  # noqa: BLE001 - a warm stop that hangs is killed
            worker.kill()
            worker.wait()
        proxy.close()


def _failed_job_page(app, client, create_unit, create_user, login, kind, caplog):
    unit = create_unit()
    user_id = create_user("jobowner", unit, "filler")
    login("jobowner")
    with app.app_context():
        from workflows.models import User
        run_id = jobs.enqueue(kind, requested_by=db.session.get(User, user_id)).id
        db.session.commit()
        with caplog.at_level("WARNING"):
            jobs.dispatcher().wait_idle()
    assert _row(app, run_id).state == "failed"
    return (client.get(f"/jobs/{run_id}").get_data(as_text=True),
            client.get(f"/jobs/{run_id}.json").get_json())


def test_a_failed_jobs_page_speaks_the_users_language(app, client, create_unit, create_user, login, caplog):
    page, status = _failed_job_page(app, client, create_unit, create_user, login, "test_fail", caplog)
    assert "生成失败，请稍后重试。" in page
    assert status["error"] == "生成失败，请稍后重试。"
    for raw in ("this job always fails", "RuntimeError"):
        assert raw not in page and raw not in str(status)
    assert "this job always fails" in caplog.text  # the raw exception goes to the log


def test_a_known_job_error_adds_its_own_message(app, client, create_unit, create_user, login, caplog):
    page, status = _failed_job_page(app, client, create_unit, create_user, login, "test_user_error", caplog)
    assert status["error"] == "生成失败：所选范围内没有可生成的内容。"
    assert "所选范围内没有可生成的内容。" in page and "所选范围内没有可生成的内容。" in status["error"]
    assert "unit 42 has no rows" not in page
    assert "unit 42 has no rows" in caplog.text


def test_the_message_follows_the_language_switch(app, client, create_unit, create_user, login, caplog):
    client.post("/language/en")
    page, _ = _failed_job_page(app, client, create_unit, create_user, login, "test_fail", caplog)
    assert "Generation failed; please try again later." in page
