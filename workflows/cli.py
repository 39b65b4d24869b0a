"""Command-line commands: ``flask seed-demo``, ``flask jobs worker|reap``.

Every command of the app prints one line and exits 1 when the database has
no tables yet, instead of an SQL traceback.
"""
import functools
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from . import jobs
from .engine_cli import audit_cli, workflows_cli
from .forms_cli import forms_cli
from .scale_cli import seed_scale_command

jobs_cli = AppGroup("jobs", help="Background jobs.")
NO_TABLES = "The database has no tables yet: run `flask db upgrade` first."
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE


def missing_table(exc):
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == UNDEFINED_TABLE or "no such table" in str(orig)


def _tell_about_missing_tables(callback):
    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as exc:
            if not missing_table(exc):
                raise
            click.echo(NO_TABLES, err=True)
            sys.exit(1)
    guarded.tells_about_missing_tables = True
    return guarded


def guard(command):
    """Wrap ``command`` (and a group's subcommands) once; commands are module-level, apps are many."""
    for sub in getattr(command, "commands", {}).values():
        guard(sub)
    if command.callback and not getattr(command.callback, "tells_about_missing_tables", False):
        command.callback = _tell_about_missing_tables(command.callback)
    return command


@click.command("seed-demo")
def seed_demo_command():
    """Build (or complete) the demo city with a user for every role."""
    from .demo import DEMO_PASSWORD, seed_demo
    city = seed_demo()
    click.echo(f"demo city ready under {city.name}; every demo account's password is {DEMO_PASSWORD!r}")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst):
    """Work the RQ queue (needs REDIS_URL)."""
    dispatcher = current_app.extensions[jobs.EXTENSION_KEY]
    if dispatcher.mode != "rq":
        raise click.ClickException("REDIS_URL is unset or unreachable: jobs run inside the web process, "
                                   "no worker is needed")
    from .worker import run_worker
    run_worker(current_app._get_current_object(), burst=burst)


@jobs_cli.command("reap")
def reap_command():
    """Settle job rows whose worker died, as failed or queued for a retry."""
    click.echo(f"{jobs.reap()} job rows settled")


def init_app(app):
    for command in (seed_demo_command, seed_scale_command, jobs_cli, forms_cli, workflows_cli, audit_cli):
        app.cli.add_command(guard(command))
