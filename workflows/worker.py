"""The RQ worker: a plain rq Worker that also settles our job row when a work-horse dies."""
import os

from rq import Worker

from . import jobs


class JobRowWorker(Worker):
    """Runs jobs in forked work-horses; reports a killed horse on the job's row."""

    flask_app = None

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage):
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        if not job.id.startswith("jobrun-"):
            return
        run_id = int(job.id.removeprefix("jobrun-"))
        signal = f" (signal {os.WTERMSIG(ret_val)})" if ret_val and os.WIFSIGNALED(ret_val) else ""
        with self.flask_app.app_context():
            jobs.record_interrupted(run_id, job.should_retry,
                                    f"work-horse {retpid} terminated unexpectedly{signal}")


def run_worker(app, burst=False):
    """Work the app's queue until stopped (or until empty with ``burst``)."""
    dispatcher = app.extensions[jobs.EXTENSION_KEY]
    JobRowWorker.flask_app = app
    jobs._app = app  # work-horses fork from here and reuse this app
    with app.app_context():
        jobs.reap()
    from redis import Redis
    # No socket timeout here: the worker blocks on the queue for minutes.
    worker = JobRowWorker([dispatcher.queue_name], connection=Redis.from_url(dispatcher.redis_url))
    if not burst:
        from .schedule import start_periodic
        start_periodic(app)
    worker.work(burst=burst, with_scheduler=True)
    with app.app_context():
        jobs.reap()
