"""Periodic work, every REMINDER_INTERVAL_MINUTES: the job kinds feature packages register here
(overdue reminders, purging uploads no form took up).

With RQ the long-running worker does this; without Redis the web process
does it in a background thread. Either way a periodic job already queued
or running is not queued twice.
"""
import threading
import time

from sqlalchemy import select

from . import jobs
from .extensions import db
from .models import JobRun

_started = set()


_periodic = []


def register_periodic(kind):
    """Run job ``kind`` every REMINDER_INTERVAL_MINUTES (once per kind, whatever the number of apps)."""
    if kind not in _periodic:
        _periodic.append(kind)


def periodic_kinds():
    return list(_periodic)


def enqueue_periodic():
    started = []
    for kind in _periodic:
        busy = db.session.execute(select(JobRun.id).where(
            JobRun.kind == kind, JobRun.state.in_(["queued", "running"])).limit(1)).first()
        if not busy:
            started.append(jobs.enqueue(kind))
    db.session.commit()
    return started


def start_periodic(app):
    minutes = app.config.get("REMINDER_INTERVAL_MINUTES", 60)
    if not minutes or id(app) in _started:
        return
    _started.add(id(app))

    def loop():
        while True:
            time.sleep(minutes * 60)
            try:
                with app.app_context():
                    enqueue_periodic()
            except Exception:  # noqa: BLE001 - keep the loop alive; the next round tries again
                app.logger.exception("could not enqueue the periodic jobs")

    threading.Thread(target=loop, name="wenming-reminders", daemon=True).start()
    app.logger.info("periodic jobs (%s): every %d minutes", ", ".join(_periodic), minutes)


def init_app(app):
    if jobs.dispatcher_of(app).mode == "inline" and not app.config.get("TESTING"):
        # No worker to do periodic work: the web process takes it on, from its first request.
        @app.before_request
        def _start_periodic_once():
            start_periodic(app)
