"""Units fill forms: start a published form, save drafts, submit, list and read submissions."""
import re
import uuid
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _, ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forms.answers import to_json, validate
from forms.files import allowed_types, human_size

from . import (error_summary, list_rows, personal_data, posted, returned_versions, roster_excel, roster_people,
               upload_progress, uploads)
from ..review.diff import between as changes_between
from ..access import VIEW_ROLES, can_view, grant_paths, has_role_at
from ..extensions import db
from .form_versions import latest_published
from ..engine.definition import load_workflow
from ..engine import audit
from ..engine.versions import form_spec_of
from ..engine.perform import ActionError, actions_for, perform, workflow_of
from ..models import FormVersion, Role, StoredFile, Submission, Unit, WorkflowVersion
from ..labels import SUBMISSION_STATES
from ..models.units import utcnow
from ..redirects import safe_next
from ..remembered_filters import remembered

bp = Blueprint("submissions", __name__)
bp.after_request(upload_progress.redirect_as_header)

EDITABLE_STATES = ("draft",)
PAGE = 50


def language():
    return "en" if get_locale().language == "en" else "zh"


def filler_units(user):
    paths = grant_paths(user, Role.FILLER)
    if not paths:
        return []
    return db.session.execute(select(Unit).where(Unit.in_any_subtree(paths), Unit.active.is_(True))
                              .order_by(Unit.path)).scalars().all()


def published_forms():
    """The newest published version of every form key."""
    newest = (select(FormVersion.key, func.max(FormVersion.version).label("version"))
              .where(FormVersion.status == "published").group_by(FormVersion.key).subquery())
    return db.session.execute(select(FormVersion).join(
        newest, (FormVersion.key == newest.c.key) & (FormVersion.version == newest.c.version))
        .order_by(FormVersion.key)).scalars().all()


def open_to(version, unit):
    kinds = version.spec.schema.available_to
    return not kinds or unit.kind in kinds


def can_edit(user, submission):
    workflow = workflow_of(submission)
    if workflow is None:
        return submission.state in EDITABLE_STATES and has_role_at(user, Role.FILLER, submission.unit)
    rule = workflow.state(submission.state).edit
    if rule == "owner":
        return submission.created_by_id == user.id
    return rule == "filler" and has_role_at(user, Role.FILLER, submission.unit)


def pinned_workflow(form_key):
    """The newest published workflow for a form: new submissions follow it."""
    return db.session.execute(select(WorkflowVersion).where(
        WorkflowVersion.form_key == form_key, WorkflowVersion.status == "published")
        .order_by(WorkflowVersion.version.desc()).limit(1)).scalar_one_or_none()


PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def summarise(submission, spec, values):
    """Copy the fields the definition's ``summary`` names onto the row, for lists and the queue, and count its images."""
    submission.image_count = sum(len(values.get(f.name) or ()) for f in spec.fields if f.type == "image")
    summary = spec.schema.summary
    if summary is None:
        return
    if summary.campaign:
        campaign = values.get(summary.campaign)
        submission.campaign = str(campaign)[:64] if campaign is not None else None
    if summary.title:
        submission.title = (values.get(summary.title) or "")[:200] or None
    when = values.get(summary.date) if summary.date else None
    submission.activity_on = when if isinstance(when, date) else None
    submission.period = when.strftime("%Y-%m") if when else None
    if summary.period:
        month = values.get(summary.period)
        submission.period = month if isinstance(month, str) and PERIOD.fullmatch(month) else None


def load_submission(submission_id, editing=False):
    submission = db.session.get(Submission, submission_id, options=[joinedload(Submission.unit)])
    # 404 rather than 403: another unit's submission must not even be confirmed to exist.
    if submission is None or not can_view(current_user, submission):
        abort(404)
    if editing and not can_edit(current_user, submission):
        abort(403)
    return submission


@bp.get("/forms/")
@login_required
def index():
    units = filler_units(current_user)
    forms = [(v, [u for u in units if open_to(v, u)]) for v in published_forms()
             if v.key not in COMPOSERS] if units else []
    return render_template("filling/index.html", forms=[(v, us) for v, us in forms if us], lang=language())


def _fill(version, unit, submission=None):
    """Show, save or submit one form; the shared body of 'new' and 'edit'."""
    spec = version.spec
    lang = language()
    if request.method == "GET":
        form = posted.build_form(spec, lang, answers=submission.answers if submission else None)
        files = _files_of(spec, submission.answers) if submission else {}
        return render_template("filling/fill.html", version=version, unit=unit, submission=submission,
                               returned_comment=_returned_comment(submission),
                               **_people(spec, form, unit), **posted.page_context(spec, form, lang, files=files))
    action = request.form.get("action", "save")
    formdata = request.form
    imported = None
    if action.startswith("import_rows:"):
        # The workbook's rows replace the roster; then it is a "save draft" like any other.
        imported = roster_excel.import_rows(spec, action.split(":", 1)[1], request.form, request.files, lang)
        formdata, action = imported.formdata, "save"
        if imported.count is not None:
            flash(ngettext("%(n)d row read from the Excel file.", "%(n)d rows read from the Excel file.",
                           imported.count, n=imported.count), "success")
    raw = posted.read_answers(spec, formdata)
    refs, file_errors, stored = posted.read_files(spec, request.form, request.files, unit, current_user,
                                                   submission, lang)
    raw.update(refs)
    add_rows = {}
    if action.startswith("add_row:"):
        add_rows[action.split(":", 1)[1]] = 1
        outcome = None
    else:
        outcome = validate(spec, raw, language=lang, strict=(action == "submit"))
    errors = dict(outcome.errors) if outcome else {}
    for name, messages in file_errors.items():
        errors.setdefault(name, []).extend(messages)
    if imported is not None:
        if outcome is not None and imported.count is not None:
            for path, messages in roster_excel.roster_errors(spec, imported, raw, lang).items():
                errors.setdefault(path, messages)
        errors.update(imported.errors)  # what went wrong reading a cell says more than its type check
    stale = submission is not None and request.form.get("row_version", type=int) != submission.row_version
    if stale:
        errors.setdefault("_form", []).append(
            _("This submission was changed elsewhere after you opened it. Your entries are below; "
              "reload the page to see the other changes before saving."))
    if outcome is None or errors:
        db.session.commit()  # uploads that passed are kept, so nothing typed or sent is lost
        form = posted.build_form(spec, lang, formdata=formdata)
        return render_template("filling/fill.html", version=version, unit=unit, submission=submission,
                               returned_comment=_returned_comment(submission), **_people(spec, form, unit),
                               **posted.page_context(spec, form, lang, errors=errors, files=stored,
                                                      add_rows=add_rows, formdata=formdata)), (422 if errors else 200)
    answers = personal_data.protect(spec, to_json(outcome.values))
    if submission is None:
        workflow = pinned_workflow(version.key)
        initial = load_workflow(workflow.source, spec).initial if workflow else "draft"
        submission = Submission(definition=version, form_key=version.key, form_version=version.version,
                                form_sha256=version.sha256, unit_id=unit.id, created_by_id=current_user.id,
                                workflow=workflow, state=initial, row_version=0, state_since=utcnow())
        db.session.add(submission)
    else:
        returned_versions.keep(submission)
    submission.answers = answers
    summarise(submission, spec, outcome.values)
    submission.row_version += 1
    submission.updated_at = utcnow()
    db.session.flush()
    uploads.attach(submission, answers, spec)
    if action == "submit":
        if submission.workflow_version_id is None:
            submission.state = "submitted"
            submission.submitted_at = utcnow()
        else:
            try:
                perform(submission.id, "submit", current_user, commit=False)
            except ActionError as refused:
                db.session.rollback()
                flash(refused.message, "error")
                return redirect(url_for(".show", submission_id=submission.id) if submission.id
                                else safe_next(request.full_path, ".listing"))
    db.session.commit()
    flash(_("Submitted.") if action == "submit" else _("Draft saved."), "success")
    if action == "submit":
        return redirect(url_for(".show", submission_id=submission.id))
    return redirect(url_for(".edit", submission_id=submission.id))


def comment_into_state(submission, events):
    """The comment of the event that brought the submission where it is (a reviewer's reason to return it)."""
    return next((e for e in reversed(events) if e.comment and e.to_state == submission.state), None)


def _returned_comment(submission):
    return comment_into_state(submission, audit.history(submission.id)) if submission is not None else None


@bp.app_template_filter("error_id")
def error_id(path):
    return error_summary.message_id(path)


bp.add_app_template_global(error_summary.invalid_attrs, "invalid_attrs")
bp.add_app_template_global(form_spec_of, "form_spec_of")
bp.add_app_template_filter(human_size, "human_size")


@bp.app_template_filter("file_types")
def file_types(field_model):
    return "/".join(t.upper() for t in allowed_types(field_model))


def _people(spec, form, unit):
    """Which roster rows are the unit's registered volunteers, and where the page asks as numbers are typed."""
    rule = roster_people.endpoint()
    return {"people": roster_people.marks(spec, form, unit) if rule else None,
            "person_lookup": url_for(rule) if rule else None}


@bp.route("/forms/<key>/new", methods=["GET", "POST"])
@login_required
def new(key):
    if key in COMPOSERS:
        return redirect(url_for(COMPOSERS[key]))
    version = latest_published(key)
    if version is None:
        abort(404)
    units = [u for u in filler_units(current_user) if open_to(version, u)]
    if not units:
        abort(403)
    if request.args.get("unit") == "" and len(units) > 1:
        # The picker sent without a unit chosen (a name typed, none picked): ask again, not guess.
        flash(_("Choose the unit to fill the form for."), "error")
        return redirect(url_for(".index"))
    unit_id = request.args.get("unit", type=int) or units[0].id
    unit = next((u for u in units if u.id == unit_id), None)
    if unit is None:
        abort(403)
    return _fill(version, unit)


@bp.route("/submissions/<int:submission_id>/edit", methods=["GET", "POST"])
@login_required
def edit(submission_id):
    submission = load_submission(submission_id, editing=True)
    return _fill(submission.definition, submission.unit, submission)


# Form panels: a feature package whose submissions carry more than their answers (a circular's facts
# and number) registers a function (submission) → HTML shown at the top of the submission's page.
FORM_PANELS = {}
# Composers: forms a feature package starts itself (a circular is drafted from the month's facts):
# "new" goes to that package's page instead of an empty form.
COMPOSERS = {}


def register_form_panel(form_key, render):
    FORM_PANELS[form_key] = render


def register_composer(form_key, endpoint):
    COMPOSERS[form_key] = endpoint


@bp.app_template_global("form_panel")
def form_panel(submission):
    render = FORM_PANELS.get(submission.form_key)
    return render(submission) if render else None


# Decision panels: a feature package that needs more than a button for one action (e.g. the
# certifier's roster decisions) registers a function (submission, transition) → HTML or None.
DECISION_PANELS = {}


def register_decision_panel(action, render):
    DECISION_PANELS[action] = render


@bp.app_template_global("decision_panels")
def decision_panels(submission, actions):
    """{action: HTML} for the open actions a registered panel takes over on the submission's page."""
    panels = {}
    for transition in actions:
        render = DECISION_PANELS.get(transition.action)
        html = render(submission, transition) if render else None
        if html is not None:
            panels[transition.action] = html
    return panels


@bp.get("/submissions/<int:submission_id>")
@login_required
def show(submission_id):
    submission = load_submission(submission_id)
    spec = form_spec_of(submission)
    answers = personal_data.shown_to(current_user, submission)
    workflow = workflow_of(submission)
    events = audit.history(submission.id)
    last_comment = comment_into_state(submission, events)
    returned = returned_versions.since_returned(submission)
    changes = changes_between(spec, returned.answers, submission.answers, language(),
                                  personal_data.at_submitting_unit(current_user, submission)) if returned else None
    return render_template("filling/show.html", submission=submission, spec=spec, answers=answers,
                           returned=returned, changes=changes,
                           lang=language(), editable=can_edit(current_user, submission), workflow=workflow,
                           actions=actions_for(current_user, submission, workflow), events=events,
                           last_comment=last_comment, now=utcnow(), idempotency_key=uuid.uuid4().hex)


@bp.get("/submissions/")
@login_required
def listing():
    back = remembered("submissions", ("state",), "submissions.listing")
    if back is not None:
        return back
    paths = sorted({p for role in VIEW_ROLES for p in grant_paths(current_user, role)})
    stmt = (select(Submission).join(Unit, Submission.unit_id == Unit.id)
            .where(Unit.in_any_subtree(paths)).order_by(Submission.id.desc()).limit(PAGE + 1))
    state = request.args.get("state")
    if state:
        stmt = stmt.where(Submission.state == state)
    before = request.args.get("before", type=int)
    if before:
        stmt = stmt.where(Submission.id < before)
    rows = db.session.execute(stmt).scalars().all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template("filling/list.html", submissions=rows, state=state, lang=language(),
                           labels={s.id: state_label(s, language()) for s in rows},
                           dates=list_rows.activity_dates(rows), campaign_names=list_rows.filter_labels(language())[1],
                           age=list_rows.age, now=utcnow(), next_before=rows[-1].id if more else None)


def state_label(submission, lang):
    workflow = workflow_of(submission)
    if workflow is not None and workflow.state(submission.state):
        return workflow.state(submission.state).label.get(lang)
    return str(SUBMISSION_STATES.get(submission.state, submission.state))


def _files_of(spec, answers):
    tokens = [ref["id"] for f in spec.fields if f.type in ("image", "file") for ref in answers.get(f.name) or []]
    if not tokens:
        return {}
    by_token = {f.token: f for f in db.session.execute(
        select(StoredFile).where(StoredFile.token.in_(tokens))).scalars()}
    return {f.name: [by_token[r["id"]] for r in answers.get(f.name) or [] if r["id"] in by_token]
            for f in spec.fields if f.type in ("image", "file")}


@bp.get("/files/<token>")
@login_required
def file(token):
    stored = db.session.execute(select(StoredFile).where(StoredFile.token == token)).scalar_one_or_none()
    if stored is None:
        abort(404)
    if stored.submission_id is not None:
        allowed = can_view(current_user, db.session.get(Submission, stored.submission_id))
    else:
        allowed = stored.uploaded_by_id == current_user.id
    if not allowed:
        abort(404)
    inline = stored.mimetype.startswith("image/") and request.args.get("download") != "1"
    response = send_file(uploads.path_of(stored), mimetype=stored.mimetype, as_attachment=not inline,
                         download_name=stored.original_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
