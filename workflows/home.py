"""The home page and the pages that follow a background job."""
from datetime import date

from flask import Blueprint, abort, jsonify, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import joinedload

from . import jobs
from .access import grant_paths, has_role_at
from .extensions import db
from .labels import JOB_STATES, ROLES
from .models import JobRun, Notification, Role, RoleGrant, Submission

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    is_admin = bool(grant_paths(current_user, Role.ADMIN))
    grants = sorted(db.session.execute(select(RoleGrant).options(joinedload(RoleGrant.unit))
                                       .where(RoleGrant.user_id == current_user.id)).scalars(),
                    key=lambda g: (g.unit.path, g.role))
    todo, notes, handled = _notifications(current_user)
    unread = db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == current_user.id, Notification.read_at.is_(None))).scalar()
    circulars = _circulars_provider(current_user) if _circulars_provider else []
    return render_template("home.html", grants=grants, roles=ROLES, is_admin=is_admin, notes=notes, todo=todo,
                           handled=handled, unread=unread, due=_due(grants), circulars=circulars)


# Kinds that ask the reader to act on a submission in the state they were sent for (``for_state``).
TODO_KINDS = ("action_needed", "reminder")


def _notifications(user, todo_limit=20, limit=10):
    """(to do, the other recent notifications, ids of those someone already handled).

    A request to act is "to do" while its submission is still in the state it was sent for; once the
    submission has left it (another reviewer decided), it is only news. One row per submission.
    """
    pending = and_(Notification.kind.in_(TODO_KINDS), Notification.for_state.is_not(None),
                   Submission.state == Notification.for_state)
    rows = db.session.execute(
        select(Notification).join(Submission, Submission.id == Notification.submission_id)
        .where(Notification.user_id == user.id, pending).order_by(Notification.id.desc()).limit(todo_limit * 3)
    ).scalars().all()
    todo, seen = [], set()
    for note in rows:
        if note.submission_id not in seen and len(todo) < todo_limit:
            seen.add(note.submission_id)
            todo.append(note)
    pending_ids = {note.id for note in rows}
    notes = db.session.execute(
        select(Notification, Submission.state).outerjoin(Submission, Submission.id == Notification.submission_id)
        .where(Notification.user_id == user.id, Notification.id.not_in(pending_ids) if pending_ids else true())
        .order_by(Notification.id.desc()).limit(limit)).all()
    handled = {note.id for note, state in notes
               if note.kind in TODO_KINDS and note.for_state is not None and state != note.for_state}
    return todo, [note for note, _state in notes], handled


# Filled in by the circulars package: user → rows (id, title, doc_number, issued, opened), the circulars
# naming the user's units.
_circulars_provider = None


def set_circulars_provider(provider):
    global _circulars_provider
    _circulars_provider = provider


# Filled in by the assessment package: (unit, today) → what the unit owes this month (or None).
_due_provider = None


def set_due_provider(provider):
    global _due_provider
    _due_provider = provider


def _due(grants):
    """What each unit where the person fills forms owes this month, by unit."""
    if _due_provider is None:
        return []
    today = date.today()
    units = {g.unit.id: g.unit for g in grants if g.role == Role.FILLER.value and g.unit.active}
    return [(unit, _due_provider(unit, today)) for unit in sorted(units.values(), key=lambda u: u.path)]


def _load_job(run_id):
    run = db.session.get(JobRun, run_id)
    if run is None:
        abort(404)
    mine = run.requested_by_id == current_user.id
    if not mine and not (run.unit is not None and has_role_at(current_user, Role.ADMIN, run.unit)):
        abort(404)
    return run


def _job_failure(run):
    """What a person is told about a failed job: never the raw exception (that is in the log)."""
    known = jobs.user_message(run.error)
    if known:
        return _("Generation failed: %(reason)s", reason=_(known))
    return _("Generation failed; please try again later.")


def _job_status(run):
    return {
        "id": run.id, "kind": run.kind, "state": run.state, "state_label": str(JOB_STATES[run.state]),
        "progress": run.progress, "attempts": run.attempts, "max_attempts": run.max_attempts,
        "error": _job_failure(run) if run.state == "failed" else None,
        "download_url": url_for(".job_download", run_id=run.id) if run.state == "done" and run.result_path else None,
        "result_name": run.result_name,
    }


@bp.get("/jobs/<int:run_id>")
@login_required
def job(run_id):
    run = _load_job(run_id)
    if not run.finished:
        jobs.reap([run.id])
    return render_template("jobs/show.html", run=run, status=_job_status(run))


@bp.get("/jobs/<int:run_id>.json")
@login_required
def job_json(run_id):
    run = _load_job(run_id)
    if not run.finished:
        jobs.reap([run.id])
    return jsonify(_job_status(run))


@bp.get("/jobs/<int:run_id>/download")
@login_required
def job_download(run_id):
    run = _load_job(run_id)
    if run.state != "done" or not run.result_path:
        abort(404)
    path = jobs.result_path(run)
    if not path.exists():
        abort(410, _("The file of this job is no longer stored."))
    response = send_file(path, mimetype=run.result_mimetype, as_attachment=True, download_name=run.result_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app):
    app.register_blueprint(bp)
