"""Published form versions and workflow versions never change: each is read and parsed once per process.

A submission pins its form by (key, version, sha256), so its form's spec is
found by those three without reading the ``form_version`` row. A workflow
version row is never rewritten either; its id is mapped to (key, version,
sha256) and source once per app (ids belong to one database, and an app has
one), and its parsed spec is kept by those and its form's. Nothing here is a
session object, so a commit — which expires the session — costs no re-read.

``released()`` is the catalog of workflow versions with their newest
released form, read in one statement once per request: the queue's lanes and
the filters' labels both come from it.
"""
from dataclasses import dataclass

from flask import current_app, g, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import FormVersion, WorkflowVersion
from .definition import load_workflow

_forms = {}  # (key, version, sha256) -> FormSpec, for every app in the process: a sha256 names its text


@dataclass(frozen=True)
class Released:
    workflow_version_id: int
    workflow: object  # WorkflowSpec
    form: object  # FormSpec of the newest released version of the workflow's form


def _workflow_rows():
    return current_app.extensions.setdefault("wenming_workflow_versions", {})


def form_spec(key, version, sha256, form_version_id):
    spec = _forms.get((key, version, sha256))
    if spec is None:
        row = db.session.get(FormVersion, form_version_id)
        spec = row.spec
        # A draft may still change: only what can no longer change is kept.
        if row.status != "draft" and row.sha256 == sha256:
            _forms[(key, version, sha256)] = spec
    return spec


def form_spec_of(submission):
    return form_spec(submission.form_key, submission.form_version, submission.form_sha256,
                     submission.form_version_id)


def _workflow_row(workflow_version_id):
    """(version number, source) of a workflow version."""
    rows = _workflow_rows()
    found = rows.get(workflow_version_id)
    if found is None:
        row = db.session.get(WorkflowVersion, workflow_version_id)
        if row is None:
            return None
        found = rows[workflow_version_id] = (row.version, row.source)
    return found


def workflow_version_number(workflow_version_id):
    """The ``version`` of a workflow version row (what audit events record), or None."""
    if workflow_version_id is None:
        return None
    found = _workflow_row(workflow_version_id)
    return found[0] if found else None


def workflow_of(submission):
    """The submission's workflow, parsed against the submission's own form version; None if it has none."""
    if submission.workflow_version_id is None:
        return None
    return load_workflow(_workflow_row(submission.workflow_version_id)[1], form_spec_of(submission))


def released():
    """[Released] for every workflow version whose form has a released (published or retired) version."""
    if "_released_versions" in g:
        return g._released_versions
    rows = db.session.execute(
        select(WorkflowVersion.id, FormVersion.key, FormVersion.version, FormVersion.sha256, FormVersion.id)
        .join(FormVersion, FormVersion.key == WorkflowVersion.form_key).where(FormVersion.status != "draft")
        .order_by(WorkflowVersion.id, FormVersion.version.desc())).all()
    missing = [row[0] for row in rows if row[0] not in _workflow_rows()]
    if missing:
        for version_id, number, source in db.session.execute(
                select(WorkflowVersion.id, WorkflowVersion.version, WorkflowVersion.source)
                .where(WorkflowVersion.id.in_(missing))):
            _workflow_rows()[version_id] = (number, source)
    out, seen = [], set()
    for workflow_version_id, key, version, sha256, form_version_id in rows:
        if workflow_version_id in seen:
            continue
        seen.add(workflow_version_id)
        form = form_spec(key, version, sha256, form_version_id)
        out.append(Released(workflow_version_id, load_workflow(_workflow_rows()[workflow_version_id][1], form),
                            form))
    g._released_versions = out
    return out


@event.listens_for(Session, "after_flush")
def _catalog_changed(session, _context):
    # A version stored, published or retired in this request: the catalog is read again.
    if has_app_context() and any(isinstance(o, (FormVersion, WorkflowVersion))
                                 for o in (*session.new, *session.dirty, *session.deleted)):
        g.pop("_released_versions", None)
