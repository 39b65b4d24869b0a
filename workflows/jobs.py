"""Background jobs: a database row per job, RQ on Redis, or in-process without it.

A job is a function registered with ``@job_kind``; it receives a JobContext
and the row's params (ids and plain values, never objects). ``enqueue`` only
adds the row; the job is handed to RQ (or the in-process runner) after the
surrounding transaction commits, so a rolled-back request starts nothing.
"""
import hashlib
import logging
import os
import re
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from .extensions import db
from .models import JobRun, JobState
from .models.units import utcnow

log = logging.getLogger(__name__)

EXTENSION_KEY = "wenming_jobs"
PENDING_KEY = "wenming_pending_jobs"


class QueueUnavailable(Exception):
    """Redis is configured but cannot be reached right now."""


_user_messages = set()


def N_(message):
    """Mark an English message a job may fail with for people to read.

    It is stored on the row as it is and translated on the job's page, in
    the reader's language; anything else on the row is for operators only.
    """
    _user_messages.add(message)
    return message


def user_message(error):
    """The marked message ``error`` is, or None when it is technical text."""
    return error if error in _user_messages else None


NOTHING_TO_BUILD = N_("There is nothing to build for this selection.")


class JobError(Exception):
    """A refusal the person who asked for the job should be told about; not retried.

    ``message`` is a message marked with ``N_``; ``detail`` goes to the log only.
    """

    def __init__(self, message, detail=None):
        super().__init__(detail or message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class JobKind:
    name: str
    func: object
    timeout: int | None
    retries: int | None


_kinds: dict[str, JobKind] = {}


def job_kind(name, timeout=None, retries=None):
    """Register ``func(ctx, **params)`` as the job ``name``.

    ``timeout`` (s) and ``retries`` default to JOB_TIMEOUT and JOB_RETRIES.
    """
    def register(func):
        _kinds[name] = JobKind(name, func, timeout, retries)
        return func
    return register


def kind_of(name):
    # Kinds are registered by the feature packages' init_app, and a worker
    # builds the whole app before it takes a job, so an unknown kind is a bug.
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"unknown job kind {name!r}: no package registered it") from None


def kind_names():
    return sorted(_kinds)


def rq_job_id(run_id, queue_name=None):
    """The RQ job id of row ``run_id``: RQ keeps job ids in one namespace per Redis
    database, and row ids repeat across databases sharing it, so the queue is part of it."""
    queue_name = queue_name or current_app.config["RQ_QUEUE"]
    return f"jobrun-{re.sub(r'[^A-Za-z0-9_-]', '_', queue_name)}-{run_id}"


def run_id_of(job_id):
    """The row id in an id ``rq_job_id`` made, or None for other jobs."""
    match = re.fullmatch(r"jobrun-[A-Za-z0-9_-]*-(\d+)", job_id)
    return int(match.group(1)) if match else None


class JobContext:
    """What a running job sees: its row, a progress reporter, a place for its result."""

    def __init__(self, run):
        self.run = run

    def progress(self, percent):
        self.run.progress = max(0, min(99, int(percent)))
        self.run.heartbeat_at = utcnow()
        db.session.commit()

    def result_file(self, name, mimetype):
        """Path to write the job's single result file to."""
        folder = Path(current_app.config["RESULT_DIR"]) / str(self.run.id)
        folder.mkdir(parents=True, exist_ok=True)
        self.run.result_name = name
        self.run.result_mimetype = mimetype
        self.run.result_path = str(Path(str(self.run.id)) / "result")
        return folder / "result"


def result_path(run):
    return Path(current_app.config["RESULT_DIR"]) / run.result_path


class Dispatcher:
    """Chooses RQ or the in-process runner once, at start-up, and sends jobs there."""

    def __init__(self, app):
        self.app = app
        self.redis_url = app.config.get("REDIS_URL")
        self.queue_name = app.config["RQ_QUEUE"]
        self._executor = None
        self.mode = "inline"
        self._announced = False
        if self.redis_url:
            if self._redis_reachable():
                self.mode = "rq"
            else:
                # Set but unreachable is a fault: every command says so at once.
                app.logger.warning("jobs: Redis at %s is unreachable; jobs run in-process", self.redis_url)
                self._announced = True

    def announce(self):
        """Log where jobs run, once, when the web or a worker starts (not for every CLI command)."""
        if self._announced:
            return
        self._announced = True
        if self.mode == "rq":
            self.app.logger.info("jobs: RQ queue %r on %s", self.queue_name, self.redis_url)
        else:
            self.app.logger.info("jobs: REDIS_URL not set; jobs run in-process")

    def redis(self):
        from redis import Redis
        return Redis.from_url(self.redis_url, socket_connect_timeout=1, socket_timeout=5)

    def queue(self):
        from rq import Queue
        return Queue(self.queue_name, connection=self.redis())

    def _redis_reachable(self):
        from redis.exceptions import RedisError
        try:
            return bool(self.redis().ping())
        except (RedisError, OSError):
            return False

    def ensure_available(self):
        if self.mode == "rq" and not self._redis_reachable():
            raise QueueUnavailable(self.redis_url)

    def dispatch(self, run_id, kind):
        if self.mode == "rq":
            self._push_rq(run_id, kind)
        else:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wenming-job")
            self._executor.submit(self._run_inline, run_id)

    def _push_rq(self, run_id, kind):
        from redis.exceptions import RedisError
        from rq import Retry
        spec = kind_of(kind)
        retries = spec.retries if spec.retries is not None else self.app.config["JOB_RETRIES"]
        timeout = spec.timeout or self.app.config["JOB_TIMEOUT"]
        try:
            self.queue().enqueue(
                execute, run_id, job_id=rq_job_id(run_id, self.queue_name), job_timeout=timeout,
                retry=Retry(max=retries) if retries else None,
                result_ttl=86400, failure_ttl=7 * 86400, description=f"{kind} #{run_id}")
        except (RedisError, OSError) as exc:
            # The row is committed already: record why it will never run. This
            # runs in after_commit, where the request's session cannot be used.
            with db.engine.begin() as connection:
                connection.execute(update(JobRun).where(JobRun.id == run_id).values(
                    state=JobState.FAILED.value, error=f"queue unreachable: {exc}", finished_at=utcnow()))

    def _run_inline(self, run_id):
        with self.app.app_context():
            run = db.session.get(JobRun, run_id)
            while run is not None and run.state == JobState.QUEUED.value:
                try:
                    _execute(run_id)
                except Exception:  # noqa: BLE001 - recorded on the row by _execute
                    pass
                db.session.expire_all()
                run = db.session.get(JobRun, run_id)
            db.session.remove()

    def wait_idle(self):
        """Block until the in-process runner has finished what it was given (tests, CLI)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


def dispatcher_of(app):
    return app.extensions[EXTENSION_KEY]


def dispatcher():
    return current_app.extensions[EXTENSION_KEY]


def enqueue(kind, params=None, requested_by=None, unit=None):
    """Add a job row to the current transaction; the job starts after commit."""
    spec = kind_of(kind)
    dispatcher().ensure_available()
    retries = spec.retries if spec.retries is not None else current_app.config["JOB_RETRIES"]
    run = JobRun(kind=kind, params=params or {}, state=JobState.QUEUED.value,
                 max_attempts=retries + 1, requested_by_id=requested_by.id if requested_by else None,
                 unit_id=unit.id if unit else None)
    db.session.add(run)
    db.session.flush()
    db.session.info.setdefault(PENDING_KEY, []).append((run.id, kind))
    return run


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session):
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    jobs = dispatcher()
    for run_id, kind in pending:
        jobs.dispatch(run_id, kind)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop(PENDING_KEY, None)


def _worker_app():
    if has_app_context():
        return None
    if _app is None:
        # The runner builds no app of its own: that would import every
        # feature package from here. `flask jobs worker` binds its app first.
        raise RuntimeError("no app bound to this worker: start workers with `flask jobs worker`")
    return _app


_app = None
_engine_pid = None


def execute(run_id):
    """RQ entry point: run job row ``run_id`` inside an app context."""
    app = _worker_app()
    if app is None:
        return _execute(run_id)
    with app.app_context():
        return _execute(run_id)


def _fresh_connections_after_fork():
    # RQ forks a work-horse per job; pooled connections inherited from the
    # parent must not be shared with it.
    global _engine_pid
    if _engine_pid != os.getpid():
        db.engine.dispose(close=False)
        _engine_pid = os.getpid()


def _execute(run_id):
    _fresh_connections_after_fork()
    run = db.session.get(JobRun, run_id)
    if run is None:
        log.warning("job row %s vanished; nothing to do", run_id)
        return None
    if run.state == JobState.DONE.value:
        return run.result_sha256
    run.state = JobState.RUNNING.value
    run.attempts += 1
    run.started_at = run.heartbeat_at = utcnow()
    run.worker_pid = os.getpid()
    run.progress = 0
    db.session.commit()
    spec = kind_of(run.kind)
    try:
        spec.func(JobContext(run), **run.params)
        if run.result_path:
            run.result_sha256 = _sha256(result_path(run))
        run.state = JobState.DONE.value
        run.progress = 100
        run.error = None
        run.finished_at = utcnow()
        db.session.commit()
        return run.result_sha256
    except JobError as exc:
        db.session.rollback()
        log.warning("job %s (%s) refused: %s", run_id, run.kind, exc.detail or exc.message)
        run = db.session.get(JobRun, run_id)
        run.error = exc.message
        run.state, run.finished_at = JobState.FAILED.value, utcnow()
        db.session.commit()
        return None
    except Exception as exc:
        db.session.rollback()
        run = db.session.get(JobRun, run_id)
        run.error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        more = run.attempts < run.max_attempts
        run.state = JobState.QUEUED.value if more else JobState.FAILED.value
        if not more:
            run.finished_at = utcnow()
        db.session.commit()
        log.exception("job %s (%s) attempt %s failed", run_id, run.kind, run.attempts)
        raise


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_interrupted(run_id, will_retry, reason):
    """A worker saw the process running this job die."""
    run = db.session.get(JobRun, run_id)
    if run is None or run.finished:
        return
    run.error = reason
    if will_retry and run.attempts < run.max_attempts:
        run.state = JobState.QUEUED.value
    else:
        run.state = JobState.FAILED.value
        run.finished_at = utcnow()
    db.session.commit()


def reap(run_ids=None):
    """Settle rows whose job can no longer finish; returns how many changed.

    With RQ, the queue's own record decides (a job it failed or lost is
    failed here, one it re-queued is queued). Without it, or when that record
    is gone, a row whose heartbeat is older than its timeout has no runner.
    """
    stmt = select(JobRun).where(JobRun.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]))
    if run_ids is not None:
        stmt = stmt.where(JobRun.id.in_(run_ids))
    rows = db.session.execute(stmt).scalars().all()
    if not rows:
        return 0
    jobs = dispatcher()
    changed = 0
    statuses = _rq_statuses([r.id for r in rows]) if jobs.mode == "rq" else {}
    now = utcnow()
    for run in rows:
        status, reason = statuses.get(run.id, (None, None))
        timeout = kind_of(run.kind).timeout or current_app.config["JOB_TIMEOUT"]
        stale_since = run.heartbeat_at or run.created_at
        if status in ("failed", "stopped", "canceled"):
            run.state, run.error, run.finished_at = JobState.FAILED.value, reason or run.error, now
        elif status in ("queued", "scheduled", "deferred") and run.state == JobState.RUNNING.value:
            run.state, run.error = JobState.QUEUED.value, reason or "worker stopped; retrying"
        elif status == "finished" and run.state != JobState.DONE.value:
            run.state, run.error, run.finished_at = JobState.FAILED.value, "finished without a result", now
        elif status is None and now - stale_since > timedelta(seconds=timeout + 60):
            run.state, run.error, run.finished_at = JobState.FAILED.value, "no runner took or finished this job", now
        else:
            continue
        changed += 1
    db.session.commit()
    return changed


def _rq_statuses(run_ids):
    from redis.exceptions import RedisError
    from rq.job import Job
    from rq.registry import StartedJobRegistry
    jobs = dispatcher()
    out = {}
    try:
        connection = jobs.redis()
        # Moves jobs of workers that died without a word to the failed registry.
        StartedJobRegistry(jobs.queue_name, connection=connection).cleanup()
        fetched = Job.fetch_many([rq_job_id(i) for i in run_ids], connection=connection)
    except (RedisError, OSError):
        return out
    for run_id, job in zip(run_ids, fetched):
        if job is None:
            continue
        status = job.get_status(refresh=False)
        reason = None
        if status == "failed":
            result = job.latest_result()
            reason = (result.exc_string or "").strip().splitlines()[-1:] if result else None
            reason = reason[0] if reason else "failed in the worker"
        out[run_id] = (str(status.value if hasattr(status, "value") else status), reason)
    return out


def init_app(app):
    dispatcher = app.extensions[EXTENSION_KEY] = Dispatcher(app)
    app.before_request(dispatcher.announce)
