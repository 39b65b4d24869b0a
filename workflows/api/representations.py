"""What the API answers with: units, forms, submissions and queue items as JSON."""
from ..engine import audit
from ..engine.perform import actions_for, workflow_of
from ..filling import personal_data
from ..filling.submissions import can_edit, language
from ..labels import SUBMISSION_STATES


def _time(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _texts(text):
    if text is None:
        return None
    return {"zh": text.get("zh"), "en": text.get("en")}


def _unit(unit):
    return {"id": unit.id, "name": unit.name}


def _form_ref(submission):
    return {"key": submission.form_key, "version": submission.form_version, "sha256": submission.form_sha256}


def _state_label(submission, workflow=None):
    workflow = workflow or workflow_of(submission)
    state = workflow.state(submission.state) if workflow else None
    if state is not None:
        return state.label.get(language())
    label = SUBMISSION_STATES.get(submission.state)
    return str(label) if label is not None else submission.state


def _actions(user, submission, workflow):
    out = []
    for transition in actions_for(user, submission, workflow):
        approval = transition.model.approval
        out.append({"action": transition.action, "label": transition.label(language()), "to": transition.model.to,
                    "comment": transition.model.comment, "vote": bool(approval and approval.mode != "any")})
    return out


def submission_json(submission, user):
    workflow = workflow_of(submission)
    history = [{"seq": e.seq, "actor": e.actor.display_name if e.actor else None, "action": e.action,
                "from": e.from_state, "to": e.to_state, "comment": e.comment, "at": _time(e.at)}
               for e in audit.history(submission.id)]
    return {
        "id": submission.id,
        "form": _form_ref(submission),
        "workflow": {"key": workflow.key, "version": workflow.version} if workflow else None,
        "unit": _unit(submission.unit),
        "state": submission.state,
        "state_label": _state_label(submission, workflow),
        "row_version": submission.row_version,
        "title": submission.title,
        "campaign": submission.campaign,
        "period": submission.period,
        "created_at": _time(submission.created_at),
        "updated_at": _time(submission.updated_at),
        "submitted_at": _time(submission.submitted_at),
        "state_since": _time(submission.state_since),
        "due_at": _time(submission.due_at),
        "editable": can_edit(user, submission),
        # The labels pinned at saving (``_labels``) are the pages' business; the API gives the values.
        "answers": {k: v for k, v in personal_data.shown_to(user, submission).items() if not k.startswith("_")},
        "actions": _actions(user, submission, workflow),
        "history": history,
    }


def _queue_item(submission, now):
    return {
        "id": submission.id,
        "form": _form_ref(submission),
        "unit": _unit(submission.unit),
        "state": submission.state,
        "state_label": _state_label(submission),
        "title": submission.title,
        "campaign": submission.campaign,
        "period": submission.period,
        "state_since": _time(submission.state_since),
        "due_at": _time(submission.due_at),
        "overdue": bool(submission.due_at and submission.due_at < now),
        "row_version": submission.row_version,
    }
