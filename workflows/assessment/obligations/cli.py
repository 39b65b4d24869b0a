"""``flask obligations check FILE...`` and ``flask obligations load FILE``: the monthly rules from files."""
import sys

import click
from flask.cli import AppGroup

from forms.source import DefinitionError, read_definition_file

obligations_cli = AppGroup("obligations", help="Monthly obligations: check rule files, load a new version.")


def _problems(path, problems):
    for problem in problems:
        line = f" (line {problem.line})" if getattr(problem, "line", None) else ""
        click.echo(f"{path}: {problem}{line}")


@obligations_cli.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_command(paths):
    """Check rule files: one line per problem (exit 1), or "ok KEY vVERSION"."""
    from .rules import load_rules
    failed = False
    for path in paths:
        try:
            rules = load_rules(read_definition_file(path))
        except DefinitionError as exc:
            _problems(path, exc.problems)
            failed = True
        else:
            click.echo(f"ok {rules.key} v{rules.version}")
    if failed:
        sys.exit(1)


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
        _problems(path, exc.problems)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{'loaded' if added else 'already loaded'} {row.key} v{row.version} ({row.sha256[:12]})")
