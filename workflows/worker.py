"""The RQ worker: a plain rq Worker that settles our job row when a work-horse dies.

Invariants it keeps:
- A job's RQ heartbeat is renewed every HEARTBEAT_SECONDS and lapses
  HEARTBEAT_GRACE_SECONDS later, so once a worker is gone (even by
  ``kill -9``) ``flask jobs reap`` settles its job's row within half a minute.
- A work-horse dies with its worker: a job whose worker is gone is never
  finished behind the back of the row that ``reap`` already settled.
- No RQ scheduler process is started. Nothing here schedules RQ jobs for
  later (retries have no interval; periodic work is workflows.schedule's
  thread), and a forked scheduler outlived a killed worker holding its lock.
- A Redis outage does not end the worker: every command retries with a
  capped exponential backoff until Redis answers again, and says so in the log.
"""
import ctypes
import logging
import os
import signal

from redis import Redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError
from redis.retry import Retry
from rq import Worker

from . import jobs

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
HEARTBEAT_SECONDS = 5
HEARTBEAT_GRACE_SECONDS = 10


class LoggedBackoff(ExponentialWithJitterBackoff):
    """Redis-py's backoff, telling the log that (and how long) it waits."""

    def compute(self, failures):
        wait = super().compute(failures)
        log.warning("Redis unreachable (attempt %d); retrying in %.1f s", failures, wait)
        return wait


def worker_redis(url):
    # No socket timeout: the worker blocks on the queue for minutes. Retries
    # never give up (-1): without Redis a worker has nothing else to do.
    return Redis.from_url(url, retry=Retry(LoggedBackoff(cap=30, base=1), -1),
                          retry_on_error=[RedisConnectionError, RedisTimeoutError])


def die_with_parent(parent_pid):
    """Ask Linux to SIGKILL this process when its parent dies (elsewhere: a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class JobRowWorker(Worker):
    """Runs jobs in forked work-horses; reports a killed horse on the job's row."""

    flask_app = None

    def fork_work_horse(self, job, queue):
        self._parent_pid = os.getpid()
        super().fork_work_horse(job, queue)

    def main_work_horse(self, job, queue):
        die_with_parent(self._parent_pid)
        super().main_work_horse(job, queue)

    def get_heartbeat_ttl(self, job, working_time=0.0):
        # RQ allows 60 s past each heartbeat; that is what made a dead
        # worker's job take 99 s to settle.
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = max(1, min(job.timeout - working_time, interval))
        return int(interval) + HEARTBEAT_GRACE_SECONDS

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage):
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        run_id = jobs.run_id_of(job.id)
        if run_id is None:
            return
        signal_note = f" (signal {os.WTERMSIG(ret_val)})" if ret_val and os.WIFSIGNALED(ret_val) else ""
        with self.flask_app.app_context():
            jobs.record_interrupted(run_id, job.should_retry,
                                    f"work-horse {retpid} terminated unexpectedly{signal_note}")


def run_worker(app, burst=False):
    """Work the app's queue until stopped (or until empty with ``burst``)."""
    dispatcher = app.extensions[jobs.EXTENSION_KEY]
    dispatcher.announce()
    JobRowWorker.flask_app = app
    jobs._app = app  # work-horses fork from here and reuse this app
    with app.app_context():
        jobs.reap()
    worker = JobRowWorker([dispatcher.queue_name], connection=worker_redis(dispatcher.redis_url),
                          job_monitoring_interval=HEARTBEAT_SECONDS)
    if not burst:
        from .schedule import start_periodic
        start_periodic(app)
    worker.work(burst=burst, with_scheduler=False)
    with app.app_context():
        jobs.reap()
