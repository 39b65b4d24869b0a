"""Commands for workflow definitions and in-flight submissions: ``flask workflows check|load|migrate|remind``.

They live with review, where workflows meet the forms they are bound to: ``check``
and ``load`` read the published form versions, ``remind`` queues the reminders job.
"""
import re
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from forms.definition import DefinitionError, load_definition, parse_yaml
from forms.schema import KEY
from forms.source import read_definition_file

from ..engine import audit
from ..engine.definition import load_workflow
from ..extensions import db
from ..filling.form_versions import newest_released
from ..commands import echo_problems
from ..models import Submission, WorkflowVersion
from ..models.units import utcnow

workflows_cli = AppGroup("workflows", help="Workflow definitions and in-flight submissions.")
BUILTIN_FORMS = Path(__file__).parent.parent / "definitions" / "forms"


def _form_key(source):
    try:
        key = (parse_yaml(source)[0] or {}).get("form")
    except (DefinitionError, AttributeError):
        return None  # load_workflow reports what is wrong with the source
    return key if isinstance(key, str) else None


def _form_spec(source):
    form = newest_released(key) if (key := _form_key(source)) else None
    return form.spec if form else None


def _builtin_form_spec(source):
    """The built-in form (workflows/definitions/forms/KEY.yaml) the source names, or None."""
    key = _form_key(source)
    path = BUILTIN_FORMS / f"{key}.yaml"
    if not key or not re.fullmatch(KEY, key) or not path.is_file():
        return None
    return load_definition(read_definition_file(path))


def _read_or_exit(path):
    try:
        return read_definition_file(path)
    except DefinitionError as exc:
        echo_problems(path, exc.problems)
        sys.exit(1)


@workflows_cli.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def check_command(paths):
    """Check workflow files against the published forms (the built-in ones without a database)."""
    failed = False
    find_form = _form_spec
    for path in paths:
        try:
            source = read_definition_file(path)
            try:
                form_spec = find_form(source)
            except SQLAlchemyError:
                db.session.rollback()
                click.echo("no database to ask (run `flask db upgrade` to make one): "
                           "checking against the built-in forms", err=True)
                find_form = _builtin_form_spec
                form_spec = find_form(source)
            spec = load_workflow(source, form_spec)
        except DefinitionError as exc:
            failed = True
            echo_problems(path, exc.problems)
        else:
            click.echo(f"ok {spec.key} v{spec.version}")
    sys.exit(1 if failed else 0)


@workflows_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def load_command(path):
    """Publish a new workflow version from a file; new submissions follow it."""
    source = _read_or_exit(path)
    try:
        spec = load_workflow(source, _form_spec(source))
    except DefinitionError as exc:
        echo_problems(path, exc.problems)
        sys.exit(1)
    newest = db.session.execute(select(WorkflowVersion.version).where(WorkflowVersion.key == spec.key)
                                .order_by(WorkflowVersion.version.desc()).limit(1)).scalar()
    if newest is not None and spec.version <= newest:
        raise click.ClickException(f"{spec.key} v{newest} exists; give the new one version {newest + 1}")
    db.session.add(WorkflowVersion(key=spec.key, version=spec.version, form_key=spec.schema.form, sha256=spec.sha256,
                                   source=source, status="published", published_at=utcnow()))
    db.session.commit()
    click.echo(f"published {spec.key} v{spec.version}")


@workflows_cli.command("migrate")
@click.argument("key")
@click.option("--to", "to_version", type=int, required=True, help="The workflow version to move to.")
@click.option("--map", "mapping", multiple=True, help="old_state=new_state; states not named keep their name.")
@click.option("--dry-run", is_flag=True, help="Say what would move, change nothing.")
def migrate_command(key, to_version, mapping, dry_run):
    """Move in-flight submissions of KEY to version --to, state by state, auditing each move."""
    target = db.session.execute(select(WorkflowVersion).where(
        WorkflowVersion.key == key, WorkflowVersion.version == to_version)).scalar_one_or_none()
    if target is None:
        raise click.ClickException(f"no workflow {key} v{to_version}")
    pairs = {}
    for item in mapping:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise click.ClickException(f"--map {item!r}: expected old_state=new_state")
        pairs[old.strip()] = new.strip()
    new_spec = load_workflow(target.source, _form_spec(target.source))
    old_versions = {v.id: v for v in db.session.execute(select(WorkflowVersion).where(
        WorkflowVersion.key == key, WorkflowVersion.id != target.id)).scalars()}
    moving = db.session.execute(select(Submission).where(Submission.workflow_version_id.in_(list(old_versions)))
                                .order_by(Submission.id)).scalars().all()
    moves, unmapped = [], set()
    for submission in moving:
        old_spec = load_workflow(old_versions[submission.workflow_version_id].source, submission.definition.spec)
        if old_spec.state(submission.state) and old_spec.state(submission.state).final:
            continue  # finished submissions keep the version they finished under
        new_state = pairs.get(submission.state, submission.state)
        if new_spec.state(new_state) is None:
            unmapped.add(submission.state)
            continue
        moves.append((submission, new_state))
    if unmapped:
        raise click.ClickException("no state in v%d for: %s (add --map old=new)" % (to_version, ", ".join(sorted(unmapped))))
    for submission, new_state in moves:
        click.echo(f"#{submission.id}: {submission.state} → {new_state}")
    if dry_run:
        click.echo(f"{len(moves)} submissions would move (dry run)")
        return
    for submission, new_state in moves:
        from_version = old_versions[submission.workflow_version_id].version
        old_state = submission.state
        db.session.execute(update(Submission).where(Submission.id == submission.id).values(
            workflow_version_id=target.id, state=new_state, row_version=Submission.row_version + 1)
            .execution_options(synchronize_session=False))
        db.session.refresh(submission)
        audit.append(submission, None, "migrate", old_state, new_state,
                     f"workflow {key} v{from_version} → v{to_version}", utcnow())
    db.session.commit()
    click.echo(f"{len(moves)} submissions moved to {key} v{to_version}")


@workflows_cli.command("remind")
def remind_command():
    """Enqueue the overdue reminders now (also run periodically by the worker)."""
    from .. import jobs
    run = jobs.enqueue("overdue_reminders")
    db.session.commit()
    click.echo(f"reminders queued as job {run.id}")
