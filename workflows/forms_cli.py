"""``flask forms check PATH...`` and ``flask forms load PATH``: form definitions from files."""
import click
from flask.cli import AppGroup

from forms.definition import DefinitionError, load_definition

forms_cli = AppGroup("forms", help="Form definitions: check YAML files, load and publish a new version.")


def _read(path):
    """The file's text, or raises click.ClickException naming the file."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from None


@forms_cli.command("check", with_appcontext=False)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_command(paths):
    """Check definition files: one line per problem (exit 1), or "ok KEY vVERSION"."""
    failed = False
    for path in paths:
        try:
            spec = load_definition(_read(path))
        except click.ClickException as exc:
            click.echo(exc.message)
            failed = True
        except DefinitionError as exc:
            for problem in exc.problems:
                click.echo(f"{path}: {problem}")
            failed = True
        else:
            click.echo(f"ok {spec.key} v{spec.version}")
    if failed:
        raise SystemExit(1)


@forms_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
def load_command(path):
    """Create a new version from PATH and publish it, printing what old submissions will look like."""
    from . import form_versions as ops
    from .extensions import db

    source = _read(path)
    try:
        fv = ops.create_draft(source, None)
        findings = ops.publish(fv, None)
    except ops.DefinitionRejected as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(f"{path}: {problem}")
        raise SystemExit(1) from None
    except ops.FormVersionError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    for finding in findings:
        click.echo(f"{finding.kind} {finding.path}: {finding.message_en}")
    click.echo(f"published {fv.key} v{fv.version} ({fv.sha256[:12]})")
