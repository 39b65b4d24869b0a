"""Submissions: create, read and change a draft, submit it, and take workflow actions on it."""
import re

from flask import jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy import select, update

from forms.answers import validate

from ..access import can_view
from ..engine.definition import load_workflow
from ..engine.versions import form_spec_of
from ..engine.perform import Forbidden, Invalid, NotFound, conflict, actions_for, perform, workflow_of
from ..extensions import db
from ..filling import personal_data, returned_versions, uploads
from ..filling.submissions import can_edit, filler_units, language, open_to, pinned_workflow, published_forms, summarise
from ..models import IdempotencyRecord, Submission
from ..models.units import utcnow
from .answers import _validated
from .blueprint import bp
from .errors import BadRequest
from .representations import submission_json
from .requests import MAX_ID, _body, _idempotency_key, _int, _text, _user

MAX_COMMENT = 5000


def _load(submission_id):
    submission = db.session.get(Submission, submission_id) if 0 < submission_id <= MAX_ID else None
    # 404 rather than 403: another unit's submission must not even be confirmed to exist.
    if submission is None or not can_view(_user(), submission):
        raise NotFound(_("No such submission."))
    return submission


@bp.post("/submissions")
def create_submission():
    data = _body(("form", "unit", "answers"), required=("form",))
    key = _text(data, "form", 64)
    if not key:
        raise BadRequest(_("“%(key)s” is required.", key="form"), field="form")
    answers = data.get("answers") or {}
    if not isinstance(answers, dict):
        raise BadRequest(_("“answers” must be an object of field values."), field="answers")
    user = _user()
    version = next((v for v in published_forms() if v.key == key), None)
    if version is None:
        raise NotFound(_("No published form “%(key)s”.", key=key))
    units = [u for u in filler_units(user) if open_to(version, u)]
    unit_id = _int(data, "unit", low=1)
    unit = units[0] if units and unit_id is None else next((u for u in units if u.id == unit_id), None)
    if unit is None:
        raise Forbidden(_("You cannot fill this form for that unit."), field="unit")
    spec = version.spec
    values, stored = _validated(spec, answers, unit)
    workflow = pinned_workflow(version.key)
    initial = load_workflow(workflow.source, spec).initial if workflow else "draft"
    now = utcnow()
    submission = Submission(definition=version, form_key=version.key, form_version=version.version,
                            form_sha256=version.sha256, unit_id=unit.id, created_by_id=user.id, workflow=workflow,
                            state=initial, row_version=1, state_since=now, created_at=now, updated_at=now,
                            answers=stored)
    summarise(submission, spec, values)
    db.session.add(submission)
    db.session.flush()
    uploads.attach(submission, stored, spec)
    db.session.commit()
    response = jsonify(submission_json(submission, user))
    response.status_code = 201
    response.headers["Location"] = url_for(".get_submission", submission_id=submission.id)
    return response


@bp.get("/submissions/<int:submission_id>")
def get_submission(submission_id):
    return jsonify(submission_json(_load(submission_id), _user()))


@bp.patch("/submissions/<int:submission_id>")
def update_submission(submission_id):
    data = _body(("answers", "expected_version"), required=("answers", "expected_version"))
    expected = _int(data, "expected_version")
    answers = data["answers"]
    if not isinstance(answers, dict):
        raise BadRequest(_("“answers” must be an object of field values."), field="answers")
    user = _user()
    submission = _load(submission_id)
    if expected != submission.row_version:
        raise conflict(submission)
    if not can_edit(user, submission):
        raise Forbidden(_("You cannot change this submission in its present state."))
    spec = form_spec_of(submission)
    values, stored = _validated(spec, answers, submission.unit, submission)
    moved = db.session.execute(
        update(Submission).where(Submission.id == submission.id, Submission.row_version == expected)
        .values(row_version=Submission.row_version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise conflict(submission)
    db.session.refresh(submission)
    returned_versions.keep(submission)
    submission.answers = stored
    summarise(submission, spec, values)
    db.session.flush()
    uploads.attach(submission, stored, spec)
    db.session.commit()
    return jsonify(submission_json(submission, user))


def _result(result):
    response = jsonify(result.body)
    response.status_code = result.status
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _submit(submission_id, data):
    expected = _int(data, "expected_version")
    comment = _text(data, "comment", MAX_COMMENT)
    key = _idempotency_key()
    user = _user()
    if key and db.session.execute(select(IdempotencyRecord.id).where(
            IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key)).first():
        return _result(perform(submission_id, "submit", user, comment, expected, key))  # replays
    submission = _load(submission_id)
    if expected is not None and expected != submission.row_version:
        raise conflict(submission)
    spec = form_spec_of(submission)
    workflow = workflow_of(submission)
    if workflow is None:
        if submission.state != "draft":
            raise Invalid(_("Only a draft can be submitted."))
        if not can_edit(user, submission):
            raise Forbidden(_("You cannot change this submission in its present state."))
    elif not any(t.action == "submit" for t in actions_for(user, submission, workflow)):
        # Not open to this person now: perform says why (403, 409 or 422).
        return _result(perform(submission.id, "submit", user, comment, expected, key))
    if workflow is None:
        outcome = validate(spec, personal_data.reveal(spec, submission.answers or {}), language=language(),
                           strict=True)
        if outcome.errors:
            raise Invalid(_("Please correct the marked fields."), errors=outcome.errors)
        now = utcnow()
        before = submission.row_version
        submission.state, submission.submitted_at, submission.state_since = "submitted", now, now
        submission.row_version += 1
        db.session.commit()
        return jsonify({"submission": submission.id, "action": "submit", "from": "draft", "to": "submitted",
                        "row_version": before + 1, "decided": True})
    return _result(perform(submission.id, "submit", user, comment, expected, key))


@bp.post("/submissions/<int:submission_id>/submit")
def submit(submission_id):
    return _submit(submission_id, _body(("expected_version", "comment")))


MAX_ROWS = 2000
MAX_REASON = 500
ROW_KEYS = ("row", "decision", "hours", "reason")
ROW_DECISIONS = ("confirm", "correct", "exclude")


def _bad(message, field):
    return BadRequest(message, field=field)


def _rows(value):
    """The certifier's row decisions sent as a list → {"index": {decision, hours, reason}} for perform.

    A value of the wrong type or out of range is 400; what the document cannot say (a row twice, a missing
    reason or corrected hours) is 422; a row the roster does not have is the certification's own 422."""
    if not isinstance(value, list) or len(value) > MAX_ROWS:
        raise _bad(_("“rows” must be a list of at most %(n)d row decisions.", n=MAX_ROWS), "rows")
    out = {}
    for position, item in enumerate(value):
        where = f"rows[{position}]"
        if not isinstance(item, dict):
            raise _bad(_("Each row decision is an object with “row” and “decision”."), where)
        unknown = sorted(set(item) - set(ROW_KEYS))
        if unknown:
            raise _bad(_("Unknown key(s): %(keys)s.", keys=", ".join(unknown)), f"{where}.{unknown[0]}")
        row, decision, hours, reason = (item.get(key) for key in ROW_KEYS)
        if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < MAX_ROWS:
            raise _bad(_("“row” must be a whole number from %(low)d to %(high)d.", low=0, high=MAX_ROWS - 1),
                       f"{where}.row")
        if decision not in ROW_DECISIONS:
            raise _bad(_("“decision” is confirm, correct or exclude."), f"{where}.decision")
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, (int, float))
                                  or not 0 < hours <= 24):
            raise _bad(_("“hours” must be a number above 0 and at most 24."), f"{where}.hours")
        if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
            raise _bad(_("“reason” must be text of at most %(n)d characters.", n=MAX_REASON), f"{where}.reason")
        if str(row) in out:
            raise Invalid(_("Row %(row)d has more than one decision.", row=row + 1), field=f"{where}.row")
        if decision != "confirm" and not (reason or "").strip():
            raise Invalid(_("Row %(row)d: please give the reason for correcting or excluding it.", row=row + 1),
                          field=f"{where}.reason")
        if decision == "correct" and hours is None:
            raise Invalid(_("Row %(row)d: give the corrected hours.", row=row + 1), field=f"{where}.hours")
        out[str(row)] = {"decision": decision, "hours": hours if decision == "correct" else None,
                         "reason": reason.strip() if reason else None}
    return out


@bp.post("/submissions/<int:submission_id>/actions/<action>")
def act(submission_id, action):
    data = _body(("expected_version", "comment", "decision", "rows"))
    if action == "submit":
        data.pop("decision", None)
        data.pop("rows", None)
        return _submit(submission_id, data)
    expected = _int(data, "expected_version")
    comment = _text(data, "comment", MAX_COMMENT)
    decision = data.get("decision", "approve")
    if decision not in ("approve", "reject"):
        raise BadRequest(_("“decision” is approve or reject."), field="decision")
    if len(action) > 32 or not re.fullmatch(r"[a-z][a-z0-9_]*", action):
        raise NotFound(_("Unknown action “%(action)s”.", action=action[:32]))
    params = None
    if "rows" in data and data["rows"] is not None:
        rows = _rows(data["rows"])
        if action != "certify":
            raise Invalid(_("“rows” is only for the certify action."), field="rows")
        params = {"rows": rows}
    key = _idempotency_key()
    if submission_id > MAX_ID:
        raise NotFound(_("No such submission."))
    return _result(perform(submission_id, action, _user(), comment, expected, key, decision, params=params))
