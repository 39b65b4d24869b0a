"""Review pages: the queue, actions on a submission, bulk approve."""
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from . import queue
from .access import grant_paths
from .admin import unit_choices
from .engine.definition import load_workflow
from .engine.perform import ActionError, perform, workflow_of
from .extensions import db
from .form_versions import newest_released
from .models import Submission, Unit, WorkflowVersion
from .models.units import utcnow
from .submissions import language

bp = Blueprint("review", __name__)
BULK_LIMIT = 200


def _scope_units():
    paths = sorted({p for role in queue.QUEUE_ROLES for p in grant_paths(current_user, role)})
    if not paths:
        return []
    return db.session.execute(select(Unit).where(Unit.in_any_subtree(paths), Unit.kind == "office")
                              .order_by(Unit.path)).scalars().all()


@bp.get("/review/")
@login_required
def index():
    filters = queue.Filters.from_args(request.args)
    result = queue.page(current_user, filters, cursor=request.args.get("cursor"))
    offices = _scope_units()
    labels = {}
    for item in result.items:
        workflow = workflow_of(item)
        labels[item.id] = (workflow.state(item.state).label, [t for t in workflow.available(item.state)])
    state_names, campaign_names = _filter_labels(language())
    return render_template("review/queue.html", page=result, filters=filters, labels=labels,
                           offices=unit_choices(offices) if offices else [], now=utcnow(),
                           state_names=state_names, campaign_names=campaign_names,
                           args={k: v for k, v in request.args.items() if k != "cursor"})


def _filter_labels(lang):
    """Readable names for the states and campaign values the queue's filters offer."""
    states, campaigns = {}, {}
    for workflow_version in db.session.execute(select(WorkflowVersion)).scalars():
        form = newest_released(workflow_version.form_key)
        if form is None:
            continue
        spec = load_workflow(workflow_version.source, form.spec)
        for name, state in spec.schema.states.items():
            states.setdefault(name, state.label.get(lang))
        summary = form.spec.schema.summary
        field = form.spec.field(summary.campaign) if summary and summary.campaign else None
        for choice in (field.choices or []) if field else []:
            campaigns.setdefault(choice.value, choice.label.get(lang))
    return states, campaigns


@bp.post("/submissions/<int:submission_id>/actions/<action>")
@login_required
def act(submission_id, action):
    try:
        result = perform(submission_id, action, current_user, comment=request.form.get("comment"),
                         expected_version=request.form.get("expected_version", type=int),
                         idempotency_key=(request.args.get("key") or request.form.get("idempotency_key") or None),
                         decision=request.form.get("decision", "approve"))
    except ActionError as refused:
        flash(refused.message, "error")
        submission = db.session.get(Submission, submission_id)
        if refused.status == 404 or submission is None:
            abort(404)
        # Back to the page with the comment kept, so nothing typed is lost.
        return redirect(url_for("submissions.show", submission_id=submission_id,
                                comment=request.form.get("comment") or None, _anchor="actions"))
    if result.body.get("decided"):
        flash(_("Done: the submission is now “%(state)s”.", state=_state_label(submission_id)), "success")
    else:
        votes = result.body.get("votes", {})
        flash(_("Your vote is recorded (%(yes)d for, %(no)d against, %(needed)d needed).",
                yes=votes.get("approve", 0), no=votes.get("reject", 0), needed=votes.get("needed", 0)), "success")
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("submissions.show", submission_id=submission_id)
    return redirect(target)


def _state_label(submission_id):
    submission = db.session.get(Submission, submission_id)
    return workflow_of(submission).state(submission.state).label.get(language())


@bp.post("/review/bulk")
@login_required
def bulk():
    """Approve each selected item as its own transition; show what happened to each."""
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:BULK_LIMIT]
    action = request.form.get("action", "approve")
    outcomes = []
    for submission_id in ids:
        try:
            perform(submission_id, action, current_user, comment=request.form.get("comment"),
                    expected_version=request.form.get(f"v{submission_id}", type=int),
                    idempotency_key=f"bulk-{request.form.get('batch', '')}-{submission_id}"
                    if request.form.get("batch") else None)
            outcomes.append((submission_id, True, _state_label(submission_id)))
        except ActionError as refused:
            db.session.rollback()
            outcomes.append((submission_id, False, refused.message))
    titles = {s.id: s for s in db.session.execute(select(Submission).where(Submission.id.in_(ids))).scalars()} \
        if ids else {}
    return render_template("review/bulk.html", outcomes=outcomes, titles=titles, action=action)


def new_idempotency_key():
    return uuid.uuid4().hex
