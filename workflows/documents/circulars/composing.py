"""Drafting a circular: a submission of the ``circular`` form, its prose started from the kind, beside
its facts snapshot and the reports it covers; and refreshing that snapshot on request."""
from datetime import datetime

from sqlalchemy import delete, select

from ...engine.definition import load_workflow
from ...extensions import db
from ...filling.form_versions import latest_published
from ...filling.submissions import pinned_workflow, summarise
from ...models import Circular, CircularReport, Submission
from ...models.units import utcnow
from . import facts as facts_module
from .kinds import kind_of

FORM = "circular"
ADDRESSEE = "各区县文明办，市直各单位"
CLOSING = "特此通报。"


def default_answers(kind, facts):
    return {"title": kind.title(facts), "addressee": ADDRESSEE, "opening": kind.opening(facts),
            "assessment": "", "requirements": kind.requirements, "closing": CLOSING}


def compose(office, kind_key, period, actor, now=None):
    """A new draft circular (added and flushed, not committed)."""
    kind = kind_of(kind_key)
    version = latest_published(FORM)
    if kind is None or version is None:
        raise LookupError(kind_key if kind is None else FORM)
    facts = facts_module.gather(office, period, now=now)
    workflow = pinned_workflow(FORM)
    spec = version.spec
    answers = default_answers(kind, facts)
    submission = Submission(definition=version, form_key=FORM, form_version=version.version,
                            form_sha256=version.sha256, unit_id=office.id, created_by_id=actor.id,
                            workflow=workflow, state=load_workflow(workflow.source, spec).initial,
                            row_version=1, state_since=utcnow(), answers=answers)
    summarise(submission, spec, answers)
    db.session.add(submission)
    db.session.flush()
    circular = Circular(submission_id=submission.id, office_unit_id=office.id, kind=kind.key, period=period,
                        facts=facts, facts_sha256=facts_module.digest(facts), facts_taken_at=utcnow())
    db.session.add(circular)
    db.session.flush()
    _cover(circular, kind, facts)
    return circular


def _cover(circular, kind, facts):
    db.session.execute(delete(CircularReport).where(CircularReport.circular_id == circular.id))
    if kind.covers:
        db.session.add_all(CircularReport(circular_id=circular.id, submission_id=sid) for sid in facts["covered"])


def refresh(circular, now=None):
    """Take the facts again; returns the changes (``facts.changes``), empty when nothing moved."""
    new = facts_module.gather(circular.office, circular.period, now=now)
    changed = facts_module.changes(circular.facts, new)
    if facts_module.digest(new) != circular.facts_sha256:
        circular.facts, circular.facts_sha256 = new, facts_module.digest(new)
        _cover(circular, kind_of(circular.kind), new)
    circular.facts_taken_at = utcnow()
    # The prose is the clerk's; only the snapshot moves. Bump the submission so a reviewer who looked
    # at the old facts is caught by the row-version check.
    submission = circular.submission
    submission.row_version += 1
    submission.updated_at = utcnow()
    return changed


def circular_for(submission_id):
    return db.session.execute(select(Circular).where(Circular.submission_id == submission_id)).scalar_one_or_none()


def month_text(value):
    try:
        return datetime.strptime(value or "", "%Y-%m").strftime("%Y-%m")
    except ValueError:
        return None
