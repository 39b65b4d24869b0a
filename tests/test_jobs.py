"""Jobs: dispatched only after commit, run by a real RQ worker, never left "running"."""
import os
import signal
import time

from redis import Redis
from rq import Queue

from tests import job_kinds  # noqa: F401 - registers the test job kinds
from workflows import jobs
from workflows.extensions import db
from workflows.models import JobRun


def _queue(app):
    return Queue(app.config["RQ_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))


def _row(app, run_id):
    with app.app_context():
        db.session.expire_all()
        run = db.session.get(JobRun, run_id)
        db.session.expunge(run)
        return run


def _wait_for(predicate, seconds=60, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_enqueue_waits_for_commit_and_rollback_sends_nothing(rq_app):
    queue = _queue(rq_app)
    with rq_app.app_context():
        jobs.enqueue("test_fail")
        assert queue.count == 0
        db.session.rollback()
        assert queue.count == 0
        assert db.session.query(JobRun).count() == 0
        run = jobs.enqueue("test_fail")
        assert queue.count == 0
        db.session.commit()
        assert queue.count == 1
        assert queue.job_ids == [jobs.rq_job_id(run.id)]


def test_a_failing_job_is_retried_then_failed_on_its_row(rq_app, run_worker):
    with rq_app.app_context():
        run_id = jobs.enqueue("test_fail").id
        db.session.commit()
    worker = run_worker()
    output = worker.communicate(timeout=120)[0].decode()
    run = _row(rq_app, run_id)
    assert (run.state, run.attempts, run.max_attempts) == ("failed", 2, 2), output
    assert "this job always fails" in run.error


def _start_and_kill_horse(rq_app, run_worker, kind):
    with rq_app.app_context():
        run_id = jobs.enqueue(kind, {"seconds": 60}).id
        db.session.commit()
    worker = run_worker()
    running = _wait_for(lambda: (r := _row(rq_app, run_id)).state == "running" and r.worker_pid and r,
                        what="the job to start")
    assert running.worker_pid != worker.pid  # the work-horse, a fork of the worker
    os.kill(running.worker_pid, signal.SIGKILL)
    output = worker.communicate(timeout=120)[0].decode()
    return run_id, output


def test_killed_work_horse_is_retried(rq_app, run_worker):
    run_id, output = _start_and_kill_horse(rq_app, run_worker, "test_hold_then_finish")
    run = _row(rq_app, run_id)
    assert (run.state, run.attempts) == ("done", 2), output


def test_killed_work_horse_without_retries_ends_failed(rq_app, run_worker):
    run_id, output = _start_and_kill_horse(rq_app, run_worker, "test_hold_once")
    run = _row(rq_app, run_id)
    assert run.state == "failed", output
    assert "terminated unexpectedly" in run.error
    with rq_app.app_context():
        assert jobs.reap() == 0  # nothing left to settle


def test_reap_settles_a_row_the_queue_has_failed(rq_app):
    """A worker that died with its horse leaves only the queue's record: reap reads it."""
    with rq_app.app_context():
        run = jobs.enqueue("test_hold_once", {"seconds": 1})
        db.session.commit()
        run.state, run.attempts = "running", 1
        db.session.commit()
        job = _queue(rq_app).fetch_job(jobs.rq_job_id(run.id))
        job.set_status("failed")
        assert jobs.reap() == 1
        db.session.refresh(run)
        assert run.state == "failed"


def test_reap_fails_a_row_nobody_runs_after_its_timeout(app):
    with app.app_context():
        run = JobRun(kind="test_hold_once", params={"seconds": 1}, state="running", attempts=1, max_attempts=1)
        db.session.add(run)
        db.session.commit()
        assert jobs.reap() == 0  # fresh: its runner may still be at work
        from datetime import timedelta
        run.heartbeat_at = run.created_at = run.created_at - timedelta(seconds=121 + 60)
        db.session.commit()
        assert jobs.reap() == 1
        assert run.state == "failed" and "no runner" in run.error


def test_without_redis_jobs_run_in_process(app):
    with app.app_context():
        assert jobs.dispatcher().mode == "inline"
        run_id = jobs.enqueue("test_fail").id
        db.session.commit()
        jobs.dispatcher().wait_idle()
    run = _row(app, run_id)
    assert (run.state, run.attempts) == ("failed", 2)


def test_unreachable_redis_at_start_up_falls_back_and_logs(database_url, tmp_path, caplog):
    from tests.conftest import _clear, make_app
    with caplog.at_level("WARNING"):
        app = make_app(database_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    assert app.extensions["wenming_jobs"].mode == "inline"
    assert "unreachable" in caplog.text
    _clear(app)


def test_redis_lost_between_check_and_push_fails_the_row(rq_app, monkeypatch):
    """The row is committed before the push; if the push then fails, the row says so."""
    dispatcher = rq_app.extensions["wenming_jobs"]
    monkeypatch.setattr(dispatcher, "redis_url", "redis://127.0.0.1:1/0")  # Redis goes away...
    monkeypatch.setattr(dispatcher, "_redis_reachable", lambda: True)    # ...right after the check
    with rq_app.app_context():
        run_id = jobs.enqueue("test_fail").id
        db.session.commit()
    run = _row(rq_app, run_id)
    assert run.state == "failed" and run.error.startswith("queue unreachable")
