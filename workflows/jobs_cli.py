"""``flask jobs worker|reap``: the job runner's commands."""
import click
from flask import current_app
from flask.cli import AppGroup

from . import jobs
from .commands import add_commands

jobs_cli = AppGroup("jobs", help="Background jobs.")


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
    add_commands(app, jobs_cli)
