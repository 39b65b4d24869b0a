"""``flask scores check|load|recompute``: the scoring definition from files, and the stored tables."""
import sys

import click
from flask.cli import AppGroup

from forms.source import DefinitionError, read_definition_file

from ..commands import check_files, echo_problems
from ..extensions import db
from .periods import Month
from .scoring_rules import load_scoring

scores_cli = AppGroup("scores", help="Unit scores: check and load scoring rules, recompute a year or a month.")


@scores_cli.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_command(paths):
    """One line per problem (exit 1), or "ok KEY vVERSION"."""
    check_files(paths, load_scoring)


@scores_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
def load_command(path):
    """Store a new version of the scoring rules; recomputing then uses it (older tables are kept)."""
    from .scores import store_version
    try:
        scoring = load_scoring(read_definition_file(path))
        store_version(scoring)
    except DefinitionError as exc:
        echo_problems(path, exc.problems)
        sys.exit(1)
    except ValueError as exc:
        click.echo(str(exc))
        sys.exit(1)
    db.session.commit()
    click.echo(f"loaded {scoring.key} v{scoring.version}")


@scores_cli.command("recompute")
@click.argument("year", type=click.IntRange(1950, 2100))
@click.option("--month", type=click.IntRange(1, 12), help="Only this month of YEAR.")
def recompute_command(year, month):
    """Recompute the stored scores of YEAR (or one month) from the facts, under the newest rules."""
    from .scores import recompute
    from .periods import months_of
    written = recompute([Month(year, month)] if month else months_of(year))
    db.session.commit()
    click.echo(f"{written['scores']} unit-months, {written['lines']} lines, rules v{written['version']}")
