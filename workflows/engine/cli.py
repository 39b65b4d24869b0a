"""The audit trail's commands: ``flask audit verify`` and ``flask audit reseal``."""
import sys

import click
from flask.cli import AppGroup

from . import audit

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def verify_command():
    """Recompute every submission's keyed hash chain and compare its state; report the first problem."""
    checked, problem = audit.verify()
    if problem:
        click.echo(f"BROKEN after {checked} good events: {problem}")
        sys.exit(1)
    click.echo(f"ok: {checked} events, every chain intact")


@audit_cli.command("reseal")
def reseal_command():
    """Once, after upgrading: re-chain trails written with plain SHA-256 under AUDIT_KEY."""
    resealed, problems = audit.reseal()
    for problem in problems:
        click.echo(problem)
    click.echo(f"{resealed} trails resealed under AUDIT_KEY")
    sys.exit(1 if problems else 0)
