"""Command-line commands: ``flask seed-demo``, ``flask jobs worker|reap``."""
import click
from flask import current_app
from flask.cli import AppGroup

from . import jobs
from .engine_cli import audit_cli, workflows_cli
from .forms_cli import forms_cli
from .scale_cli import seed_scale_command

jobs_cli = AppGroup("jobs", help="Background jobs.")


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
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_scale_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(forms_cli)
    app.cli.add_command(workflows_cli)
    app.cli.add_command(audit_cli)
