"""``flask forms check PATH...`` and ``flask forms load PATH``: form definitions from files."""
import sys

import click
from flask.cli import AppGroup

from forms.definition import DefinitionError, load_definition
from forms.source import read_definition_file

from ..commands import check_files, echo_problems

forms_cli = AppGroup("forms", help="Form definitions: check YAML files, load and publish a new version.")


@forms_cli.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_command(paths):
    """Check definition files: one line per problem (exit 1), or "ok KEY vVERSION"."""
    check_files(paths, load_definition)


@forms_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
def load_command(path):
    """Create a new version from PATH and publish it, printing what old submissions will look like."""
    from . import form_versions as ops
    from ..extensions import db

    try:
        source = read_definition_file(path)
    except DefinitionError as exc:
        echo_problems(path, exc.problems)
        sys.exit(1)
    try:
        fv = ops.create_draft(source, None)
        findings = ops.publish(fv, None)
    except ops.DefinitionRejected as exc:
        db.session.rollback()
        echo_problems(path, exc.problems)
        sys.exit(1)
    except ops.FormVersionError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    for finding in findings:
        click.echo(f"{finding.kind} {finding.path}: {finding.message_en}")
    click.echo(f"published {fv.key} v{fv.version} ({fv.sha256[:12]})")
