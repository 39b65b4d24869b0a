"""The JSON API under /api/v1: forms, drafts, submitting, the queue and workflow actions.

Authentication is a personal API token (``Authorization: Bearer wm_…``,
issued by an administrator at /admin/tokens/; only its SHA-256 is stored)
or the signed-in session of the web pages. The access rules are the pages'
own: ``can_view`` / ``can_edit`` / ``filler_units`` / ``open_to`` and the
checks inside ``engine.perform``.

CSRF: the blueprint is exempt from the form-token check, because a bearer
token is never sent by a browser on its own. A request that rides on the
session cookie and changes something (POST, PATCH, PUT, DELETE) must carry
``X-Requested-With: fetch`` or a valid ``X-CSRFToken``: a cross-site HTML
form can set neither, and a cross-site script cannot set a custom header
without a CORS preflight that this app never grants.

Every answer is JSON. Errors are ``{"error": name, "message": text in the
caller's language, …details}`` with 400, 401, 403, 404, 405, 409 or 422.
File fields take references to files already uploaded through the web form
(``{"id": token}`` or the token itself); the API does not take uploads.
"""
import hashlib
import math
import re
import secrets
from datetime import datetime, timedelta

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import or_, select, update
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError as CSRFInvalid

from forms.answers import to_json, validate
from forms.messages import message as form_message

from . import openapi, personal_data, queue, uploads
from .engine import audit
from .engine.definition import load_workflow
from .engine.perform import (ActionError, Forbidden, Invalid, NotFound, conflict, actions_for,
                             perform, workflow_of)
from .extensions import csrf, db
from .labels import SUBMISSION_STATES
from .models import ApiToken, IdempotencyRecord, Submission, User
from .models.units import utcnow
from .submissions import (can_edit, can_view, filler_units, language, open_to, pinned_workflow, published_forms,
                          summarise)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PUBLIC_ENDPOINTS = ("api.openapi_document", "api.not_found")
TOKEN_PATTERN = re.compile(r"^wm_([0-9a-f]{8})_([A-Za-z0-9_-]{32,128})$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
TOUCH_EVERY = timedelta(minutes=1)
MAX_ID = 2 ** 31 - 1          # the integer columns' range; larger ids exist nowhere
MAX_NUMBER = 2 ** 63
MAX_COMMENT = 5000
QUEUE_LIMIT = 100


class Unauthorized(ActionError):
    status = 401


class BadRequest(ActionError):
    status = 400


class MethodNotAllowed(ActionError):
    status = 405


# --- tokens -----------------------------------------------------------------

def hash_token(plain):
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def issue_token(user, name, created_by=None):
    """A new token for ``user``; returns (ApiToken row, the plain token). Only the hash is stored."""
    prefix = secrets.token_hex(4)
    plain = f"wm_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(plain), prefix=prefix,
                     created_by_id=created_by.id if created_by else None, created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    return token, plain


def revoke_token(token):
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def _user_from_token(header):
    scheme, _sep, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise Unauthorized(_("Send your API token as “Authorization: Bearer <token>”."))
    match = TOKEN_PATTERN.match(value)
    token = None
    if match:
        token = db.session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(value))
                                   ).scalar_one_or_none()
    if token is None or token.prefix != match.group(1):
        raise Unauthorized(_("This API token is not valid."))
    if token.revoked_at is not None:
        raise Unauthorized(_("This API token has been revoked."))
    user = db.session.get(User, token.user_id)
    if user is None or not user.active:
        raise Unauthorized(_("This account has been deactivated. Please contact your administrator."))
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        # At most one write a minute per token, and none from a request that lost the race.
        db.session.execute(update(ApiToken).where(
            ApiToken.id == token.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY))
            .values(last_used_at=now).execution_options(synchronize_session=False))
        db.session.commit()
    return user


def _csrf_ok():
    if request.headers.get("X-Requested-With", "").strip().lower() == "fetch":
        return True
    token = request.headers.get("X-CSRFToken")
    if not token:
        return False
    try:
        validate_csrf(token)
    except CSRFInvalid:
        return False
    return True


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    header = request.headers.get("Authorization")
    if header is not None:
        # Flask-Login reads the user from here: the token's owner for this request only, no session.
        g._login_user = _user_from_token(header)
        g.api_auth = "token"
        return
    if not current_user.is_authenticated:
        raise Unauthorized(_("Sign in, or send an API token as “Authorization: Bearer <token>”."))
    g.api_auth = "session"
    if request.method not in SAFE_METHODS and not _csrf_ok():
        raise Forbidden(_("A request signed in by the session cookie must send the header "
                          "“X-Requested-With: fetch” or a valid X-CSRFToken."), field="X-Requested-With")


# --- errors -----------------------------------------------------------------

@bp.errorhandler(ActionError)
def action_error(exc):
    db.session.rollback()
    response = jsonify(exc.body())
    response.status_code = exc.status
    if exc.status == 401:
        invalid = request.headers.get("Authorization") is not None
        response.headers["WWW-Authenticate"] = 'Bearer realm="wenming"' + (', error="invalid_token"' if invalid
                                                                           else "")
    if isinstance(exc, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(exc.details.get("allowed", []))
    return response


@bp.errorhandler(HTTPException)
def http_error(exc):
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
             409: "Conflict", 413: "TooLarge", 415: "UnsupportedMediaType", 422: "Invalid"}
    messages = {400: _("The request could not be read."), 404: _("There is nothing at this address."),
                413: _("The request is too large.")}
    response = jsonify({"error": names.get(exc.code, type(exc).__name__),
                        "message": messages.get(exc.code, exc.description or exc.name)})
    response.status_code = exc.code or 500
    return response


def _methods_here():
    """The methods the current path has, not counting the catch-all below."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "api.not_found":
            allowed.append(method)
    return allowed


@bp.before_request
def options():
    """OPTIONS names the path's own methods; Flask's automatic answer adds the catch-all's."""
    if request.method != "OPTIONS":
        return None
    allowed = _methods_here()
    if not allowed:
        raise NotFound(_("There is nothing at this address."))
    response = current_app.response_class(status=200)
    response.headers["Allow"] = ", ".join(allowed + (["HEAD"] if "GET" in allowed else []) + ["OPTIONS"])
    return response


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest):
    """Anything else under /api/v1: 405 when the path exists with other methods, else 404 — in JSON."""
    allowed = _methods_here()
    if allowed:
        raise MethodNotAllowed(_("This address does not take %(method)s.", method=request.method),
                               allowed=allowed)
    raise NotFound(_("There is nothing at this address."))


# --- reading requests ---------------------------------------------------------

def _check_text(value, path="body"):
    """Refuse what the databases cannot store: NUL characters, lone surrogates, non-finite or huge numbers."""
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequest(_("Text may not contain NUL characters."), field=path)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(_("Text must be valid Unicode."), field=path) from None
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadRequest(_("Numbers must be finite."), field=path)
        if abs(value) >= MAX_NUMBER:
            raise BadRequest(_("This number is too large."), field=path)
    elif isinstance(value, int):
        if abs(value) >= MAX_NUMBER:
            raise BadRequest(_("This number is too large."), field=path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if path == "body":
                _check_text(key, path)
            # A name inside (answers, a row) is never stored unless it is a field's: one with a NUL
            # character is "no such field" (422) there, as the document's Answers says.
            _check_text(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}[{index}]")


def _body(allowed, required=()):
    """The JSON object sent, with only the ``allowed`` keys; an empty body is ``{}``."""
    if not request.get_data(cache=True) and not required:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(_("Send a JSON object with “Content-Type: application/json”."))
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise BadRequest(_("Unknown key(s): %(keys)s.", keys=", ".join(unknown)), field=unknown[0])
    for key in required:
        if key not in data:
            raise BadRequest(_("“%(key)s” is required.", key=key), field=key)
    _check_text(data)
    return data


def _int(data, key, low=0, high=MAX_ID, default=None):
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(_("“%(key)s” must be a whole number from %(low)d to %(high)d.", key=key, low=low,
                           high=high), field=key)
    return value


def _text(data, key, limit):
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(_("“%(key)s” must be text of at most %(n)d characters.", key=key, n=limit), field=key)
    return value


def _arg_int(name, low, high, default=None):
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,10}", raw) or not low <= int(raw) <= high:
        raise BadRequest(_("“%(key)s” must be a whole number from %(low)d to %(high)d.", key=name, low=low,
                           high=high), field=name)
    return int(raw)


def _arg_text(name, limit=64):
    raw = request.args.get(name) or None
    if raw is not None:
        _check_text(raw, name)
        if len(raw) > limit:
            raise BadRequest(_("“%(key)s” must be text of at most %(n)d characters.", key=name, n=limit),
                             field=name)
    return raw


def _idempotency_key():
    key = request.headers.get("Idempotency-Key")
    if key is None or key == "":
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise BadRequest(_("Idempotency-Key must be 1 to 128 visible ASCII characters."), field="Idempotency-Key")
    return key


def _user():
    return current_user._get_current_object()


# --- representations ----------------------------------------------------------

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
        "answers": personal_data.shown_to(user, submission),
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


# --- answers --------------------------------------------------------------------

def _scalar(value):
    return value is None or isinstance(value, (str, int, float, bool))


def _shapes(spec, answers, lang):
    """Values of the wrong JSON shape, as errors by path, and the answers without them; validate() checks the rest."""
    errors = {}

    def add(path, text):
        errors.setdefault(path, []).append(text)

    def fits(field, value, path):
        kind = field.type
        if kind in ("image", "file"):
            if value is not None and not (isinstance(value, list) and all(
                    isinstance(v, str) or (isinstance(v, dict) and isinstance(v.get("id"), str)) for v in value)):
                add(path, _("A list of file references: objects with an “id”, or the ids themselves."))
                return False
        elif kind == "multi_choice":
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                add(path, _("A list of choice values (text)."))
                return False
            if value and field.choices is not None and any(v not in {c.value for c in field.choices}
                                                            for v in value):
                add(path, form_message("choice", lang))
                return False
        elif not _scalar(value):
            add(path, _("A single value (text, number, true or false)."))
            return False
        elif kind == "choice" and value not in (None, "") and field.choices is not None \
                and str(value).strip() not in {c.value for c in field.choices}:
            add(path, form_message("choice", lang))
            return False
        return True

    fields = {field.name: field for field in spec.fields}
    kept = {}
    for name, value in answers.items():
        field = fields.get(name)
        if field is None:
            add(name, _("This form has no such field."))
        elif field.type in ("note", "calculate"):
            continue  # computed by the server; sent back from GET, they are ignored
        elif field.type != "repeat":
            if fits(field, value, name):
                kept[name] = value
        elif value is None:
            kept[name] = []
        elif not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            add(name, _("A list of rows, each an object of column values."))
        else:
            columns = {column.name: column for column in field.columns}
            rows = []
            for index, row in enumerate(value):
                clean = {}
                for column_name, cell in row.items():
                    column = columns.get(column_name)
                    path = f"{name}[{index}].{column_name}"
                    if column is None:
                        add(path, _("This form has no such field."))
                    elif column.type not in ("note", "calculate") and fits(column, cell, path):
                        clean[column_name] = cell
                rows.append(clean)
            kept[name] = rows
    return errors, kept


def _restore_masked(spec, raw, stored):
    """A masked ID number sent back unchanged (as GET shows it) keeps the stored number."""
    def restored(value, kept):
        if isinstance(value, str) and "*" in value and personal_data.shows(kept, value):
            return personal_data.reveal_number(kept)
        return value

    for field in spec.fields:
        if field.type == "id_card" and field.name in raw:
            raw[field.name] = restored(raw[field.name], stored.get(field.name))
        elif field.type == "repeat" and isinstance(raw.get(field.name), list):
            ids = [c.name for c in field.columns if c.type == "id_card"]
            old_rows = stored.get(field.name) or []
            rows = []
            for index, row in enumerate(raw[field.name]):
                old = old_rows[index] if index < len(old_rows) and isinstance(old_rows[index], dict) else {}
                row = dict(row)
                for name in ids:
                    if name in row:
                        row[name] = restored(row[name], old.get(name))
                rows.append(row)
            raw[field.name] = rows


def _resolve_files(spec, raw, unit, submission, lang, errors):
    """File references → the stored files' references; unknown ones are errors at the field."""
    for field in spec.fields:
        if field.type not in ("image", "file") or not isinstance(raw.get(field.name), list):
            continue
        tokens = [v if isinstance(v, str) else v.get("id") for v in raw[field.name]]
        kept = uploads.kept(tokens, unit, submission)
        missing = [t for t in tokens if t not in kept]
        if missing:
            errors.setdefault(field.name, []).append(
                _("Unknown file reference(s): upload files in the web form first, then refer to them by id."))
        raw[field.name] = [kept[t].reference() for t in tokens if t in kept]


def _validated(spec, answers, unit, submission=None):
    """API answers (merged over the stored ones) → answers ready to store; Invalid (422) with errors by path."""
    lang = language()
    errors, sent = _shapes(spec, answers, lang)
    stored = submission.answers or {} if submission is not None else {}
    raw = dict(personal_data.reveal(spec, stored)) if stored else {}
    raw.update(sent)
    if stored:
        _restore_masked(spec, raw, stored)
    _resolve_files(spec, raw, unit, submission, lang, errors)
    outcome = validate(spec, raw, language=lang, strict=False)
    for path, messages in outcome.errors.items():
        errors.setdefault(path, []).extend(messages)
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors=errors)
    return outcome.values, personal_data.protect(spec, to_json(outcome.values))


def _load(submission_id):
    submission = db.session.get(Submission, submission_id) if 0 < submission_id <= MAX_ID else None
    # 404 rather than 403: another unit's submission must not even be confirmed to exist.
    if submission is None or not can_view(_user(), submission):
        raise NotFound(_("No such submission."))
    return submission


# --- endpoints ------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@bp.get("/forms")
def forms():
    units = filler_units(_user())
    out = []
    for version in published_forms() if units else []:
        open_units = [u for u in units if open_to(version, u)]
        if open_units:
            out.append({"key": version.key, "version": version.version, "sha256": version.sha256,
                        "title": _texts(version.spec.schema.title), "units": [_unit(u) for u in open_units]})
    return jsonify({"forms": out})


@bp.get("/forms/<key>")
def form(key):
    version = next((v for v in published_forms() if v.key == key), None)
    if version is None:
        raise NotFound(_("No published form “%(key)s”.", key=key))
    return jsonify({"key": version.key, "version": version.version, "sha256": version.sha256,
                    "title": _texts(version.spec.schema.title), "source": version.source})


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
    spec = submission.definition.spec
    values, stored = _validated(spec, answers, submission.unit, submission)
    moved = db.session.execute(
        update(Submission).where(Submission.id == submission.id, Submission.row_version == expected)
        .values(row_version=Submission.row_version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise conflict(submission)
    db.session.refresh(submission)
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
    spec = submission.definition.spec
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


@bp.post("/submissions/<int:submission_id>/actions/<action>")
def act(submission_id, action):
    data = _body(("expected_version", "comment", "decision"))
    if action == "submit":
        data.pop("decision", None)
        return _submit(submission_id, data)
    expected = _int(data, "expected_version")
    comment = _text(data, "comment", MAX_COMMENT)
    decision = data.get("decision", "approve")
    if decision not in ("approve", "reject"):
        raise BadRequest(_("“decision” is approve or reject."), field="decision")
    if len(action) > 32 or not re.fullmatch(r"[a-z][a-z0-9_]*", action):
        raise NotFound(_("Unknown action “%(action)s”.", action=action[:32]))
    key = _idempotency_key()
    if submission_id > MAX_ID:
        raise NotFound(_("No such submission."))
    return _result(perform(submission_id, action, _user(), comment, expected, key, decision))


# The API's cursor is "<microseconds since 1970 (UTC)>_<submission id>": every text of that shape is a
# position (openapi.CURSOR_PATTERN says so), so a well-formed cursor is never refused.
API_CURSOR = re.compile(r"^([0-9]{1,16})_([0-9]{1,10})$")
EPOCH = datetime(1970, 1, 1)


def _api_cursor(queue_cursor):
    if queue_cursor is None:
        return None
    when, ident = queue.decode_cursor(queue_cursor)
    return f"{(when - EPOCH) // timedelta(microseconds=1)}_{ident}"


def _queue_cursor(api_cursor):
    match = API_CURSOR.match(api_cursor)
    if not match:
        raise BadRequest(_("This cursor is not one the queue gave out."), field="cursor")
    when = EPOCH + timedelta(microseconds=int(match.group(1)))
    return queue.encode_cursor(when, min(int(match.group(2)), MAX_ID))


@bp.get("/queue")
def queue_page():
    month = _arg_text("month", 7)
    if month and not MONTH.match(month):
        raise BadRequest(_("“month” is written YYYY-MM."), field="month")
    overdue = request.args.get("overdue") or "0"
    if overdue not in ("0", "1"):
        raise BadRequest(_("“overdue” is 1 or 0."), field="overdue")
    cursor = _arg_text("cursor", 80)
    if cursor:
        cursor = _queue_cursor(cursor)
    filters = queue.Filters(unit_id=_arg_int("unit", 1, MAX_ID), campaign=_arg_text("campaign"), period=month,
                            state=_arg_text("state", 32), overdue=overdue == "1")
    limit = _arg_int("limit", 1, QUEUE_LIMIT, default=queue.PAGE)
    result = queue.page(_user(), filters, cursor=cursor, limit=limit)
    now = utcnow()
    return jsonify({"items": [_queue_item(s, now) for s in result.items],
                    "next_cursor": _api_cursor(result.next_cursor),
                    "counts": result.counts})
