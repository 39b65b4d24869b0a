"""``flask obligations check FILE...`` and ``flask obligations load FILE``: the monthly rules from files."""
import sys

import click
from flask.cli import AppGroup

from forms.source import DefinitionError, read_definition_file

from ...commands import check_files, echo_problems

obligations_cli = AppGroup("obligations", help="Monthly obligations: check rule files, load a new version.")


@obligations_cli.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_command(paths):
    """Check rule files: one line per problem (exit 1), or "ok KEY vVERSION"."""
    from .rules import load_rules
    check_files(paths, load_rules)


@obligations_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
def load_command(path):
    """Store PATH as the rules in force (the states it names must exist in the form's workflows)."""
    from ...extensions import db
    from .rules import RulesRejected, store
    try:
        row, added = store(read_definition_file(path))
    except (DefinitionError, RulesRejected) as exc:
        db.session.rollback()
        echo_problems(path, exc.problems)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{'loaded' if added else 'already loaded'} {row.key} v{row.version} ({row.sha256[:12]})")
