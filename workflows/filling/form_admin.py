"""Form definitions: versions of each form, drafts with errors at their line, live preview, publish, retire, diff.

Definitions are city-wide: any administrator may list and view them; only an
administrator at the city office (a unit of depth 0) creates, edits,
publishes or retires.
"""
import difflib
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from sqlalchemy import select
from wtforms import TextAreaField

from forms.compat import compare
from forms.definition import MAX_SOURCE, DefinitionError
from forms.source import NotText, TooLarge, read_definition

from . import form_versions as ops
from ..extensions import db
from ..models import FormVersion, Unit
from ..org.scope import admin_paths
from ..org.unit_admin import ConfirmForm

bp = Blueprint("admin_forms", __name__, url_prefix="/admin/forms")

# YAML's own line breaks, so line numbers match the ones in the problems.
_YAML_LINES = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


class DefinitionForm(FlaskForm):
    source = TextAreaField(_l("Definition (YAML)"))
    upload = FileField(_l("Or upload a YAML file"))


# --- access ------------------------------------------------------------------

def _can_manage(paths):
    """An admin grant at a unit of depth 0: the city office."""
    return db.session.execute(select(Unit.id).where(Unit.path.in_(paths), Unit.depth == 0).limit(1)
                              ).first() is not None


def _require_manager():
    paths = admin_paths()
    if not _can_manage(paths):
        abort(403)
    return paths


def _load(key, version):
    fv = ops.get_version(key, version)
    if fv is None:
        abort(404)
    return fv


def _language():
    return "en" if get_locale().language == "en" else "zh"


# --- rendering helpers -------------------------------------------------------

def numbered_lines(source, problems):
    """[(number, text, [problems at that line])] for the line-numbered view of ``source``."""
    at = {}
    for problem in problems:
        if problem.line:
            at.setdefault(problem.line, []).append(problem)
    lines = _YAML_LINES.split(source or "")
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()
    # A problem past the end (an unclosed bracket) still gets a line to sit on.
    while at and max(at) > len(lines):
        lines.append("")
    return [(n, text, at.get(n, [])) for n, text in enumerate(lines, start=1)]


def problems_context(source, problems):
    return {"problems": problems, "lines": numbered_lines(source, problems) if problems else []}


def render_preview(spec):
    """The form as a unit would see it; a plain list of fields until the filling module exists."""
    language = _language()
    try:
        from .posted import preview_html
    except ImportError:
        preview_html = None
    html = preview_html(spec, language) if preview_html is not None else None
    return Markup(render_template("filling/form_admin/_preview.html", spec=spec, preview=html, lang=language))


def _compile_for_preview(source):
    """(spec, problems): problems empty when the source compiles."""
    try:
        return ops.compile_source(ops.normalise(source)), []
    except ops.DefinitionRejected as exc:
        return None, exc.problems


def _read_upload(form):
    """The uploaded file's text, '' when none was chosen, or None after flashing why it cannot be read."""
    upload = form.upload.data
    if upload is None or not getattr(upload, "filename", ""):
        return ""
    try:
        return read_definition(upload.stream)
    except TooLarge:
        form.upload.errors = list(form.upload.errors) + [_("The file is larger than %(n)d KB.",
                                                            n=MAX_SOURCE // 1024)]
    except NotText:
        form.upload.errors = list(form.upload.errors) + [_("The file is not UTF-8 text.")]
    return None


def _bump_version(source, version):
    """``source`` with its top-level ``version:`` set to ``version`` (for "new version from this")."""
    return re.sub(r"(?m)^version:[ \t]*\d+", f"version: {version}", source, count=1)


# --- pages -------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    paths = admin_paths()
    rows = db.session.execute(select(FormVersion).order_by(FormVersion.key, FormVersion.version.desc())
                              ).scalars().all()
    keys = {}
    for fv in rows:
        keys.setdefault(fv.key, []).append(fv)
    return render_template("filling/form_admin/index.html", keys=keys, can_manage=_can_manage(paths),
                           status_label=ops.status_label)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    _require_manager()
    form = DefinitionForm()
    problems = []
    if request.method == "GET":
        base = request.args.get("from")
        if base:
            versions = ops.versions_of(base)
            if versions:
                form.source.data = _bump_version(versions[0].source, versions[0].version + 1)
    elif form.validate_on_submit():
        uploaded = _read_upload(form)
        if uploaded is not None:
            if uploaded:
                form.source.data = uploaded
            source = form.source.data or ""
            try:
                fv = ops.create_draft(source, current_user)
            except ops.DefinitionRejected as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                db.session.commit()
                flash(_("Draft %(key)s v%(version)d saved.", key=fv.key, version=fv.version), "success")
                return redirect(url_for(".edit", key=fv.key, version=fv.version))
    status = 422 if request.method == "POST" else 200
    return render_template("filling/form_admin/new.html", form=form,
                           **problems_context(form.source.data or "", problems)), status


@bp.route("/<key>/<int:version>", methods=["GET", "POST"])
@login_required
def edit(key, version):
    paths = admin_paths()
    can_manage = _can_manage(paths)
    fv = _load(key, version)
    form = DefinitionForm()
    problems = []
    status = 200
    source = fv.source
    preview = None
    if request.method == "POST":
        action = request.form.get("action", "save")
        if not form.validate_on_submit():
            abort(400)
        if action == "preview":
            # Re-render the preview from what is typed; nothing is saved.
            source = form.source.data or ""
            spec, problems = _compile_for_preview(source)
            preview = render_preview(spec) if spec is not None else None
            status = 200 if spec is not None else 422
        else:
            if not can_manage:
                abort(403)
            source = form.source.data or ""
            try:
                ops.update_draft(fv, source, current_user)
            except ops.DefinitionRejected as exc:
                db.session.rollback()
                problems = exc.problems
                status = 422
            except ops.FormVersionError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                source = fv.source
                status = 409
            else:
                db.session.commit()
                flash(_("Draft %(key)s v%(version)d saved.", key=fv.key, version=fv.version), "success")
                return redirect(url_for(".edit", key=fv.key, version=fv.version))
    if preview is None and not problems:
        try:
            preview = render_preview(fv.spec)
        except DefinitionError as exc:
            problems = exc.problems
    form.source.data = source
    versions = ops.versions_of(key)
    previous = next((v for v in versions if v.version < fv.version), None)
    return render_template("filling/form_admin/edit.html", fv=fv, form=form, preview=preview,
                           can_manage=can_manage, editable=can_manage and fv.status == ops.DRAFT,
                           versions=versions, previous=previous, confirm=ConfirmForm(),
                           status_label=ops.status_label, **problems_context(source, problems)), status


@bp.post("/preview")
@login_required
def preview():
    """The preview fragment of the posted source, or its problems (for the editor's live preview)."""
    admin_paths()
    source = request.form.get("source", "")
    spec, problems = _compile_for_preview(source)
    if spec is None:
        return render_template("filling/form_admin/_problems.html", **problems_context(source, problems)), 422
    return render_preview(spec)


@bp.post("/<key>/<int:version>/publish")
@login_required
def publish(key, version):
    _require_manager()
    fv = _load(key, version)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        previous, findings = ops.compatibility(fv)
    except ops.DefinitionRejected as exc:
        flash(_("This draft has problems and cannot be published:") + " " + "; ".join(map(str, exc.problems)),
              "error")
        return redirect(url_for(".edit", key=key, version=version))
    except ops.FormVersionError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".edit", key=key, version=version))
    # The second step publishes only what the first one showed.
    if request.form.get("confirm") == "1" and request.form.get("sha256") == fv.sha256:
        ops.publish(fv, current_user)
        db.session.commit()
        flash(_("%(key)s v%(version)d is published; new submissions start with it.",
                key=fv.key, version=fv.version), "success")
        return redirect(url_for(".edit", key=key, version=version))
    return render_template("filling/form_admin/publish.html", fv=fv, previous=previous, findings=findings,
                           breaking=[f for f in findings if f.breaking], lang=_language(), confirm=form)


@bp.post("/<key>/<int:version>/retire")
@login_required
def retire(key, version):
    _require_manager()
    fv = _load(key, version)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.retire(fv)
    except ops.FormVersionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("%(key)s v%(version)d is retired; its submissions are kept, new ones can no longer start "
                "with it.", key=fv.key, version=fv.version), "success")
    return redirect(url_for(".edit", key=key, version=version))


@bp.get("/<key>/diff")
@login_required
def diff(key):
    admin_paths()
    versions = ops.versions_of(key)
    if not versions:
        abort(404)
    b = request.args.get("b", type=int) or versions[0].version
    right = _load(key, b)
    a = request.args.get("a", type=int)
    if a is None:
        a = next((v.version for v in versions if v.version < b), b)
    left = _load(key, a)
    rows = side_by_side(left.source, right.source)
    full = request.args.get("full") == "1"
    changed = any(row[0] != "equal" for row in rows)
    if not full:
        rows = fold_unchanged(rows)
    findings, problem = [], None
    try:
        findings = compare(left.spec, right.spec)
    except DefinitionError as exc:
        problem = "; ".join(map(str, exc.problems))
    return render_template("filling/form_admin/diff.html", key=key, left=left, right=right, rows=rows,
                           findings=findings, problem=problem, versions=versions, lang=_language(),
                           status_label=ops.status_label, changed=changed)


def side_by_side(old, new):
    """Rows (tag, old number, old text, new number, new text); tag: equal, replace, delete, insert."""
    a, b = old.split("\n"), new.split("\n")
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows.extend(("equal", i + 1, a[i], j + 1, b[j]) for i, j in zip(range(i1, i2), range(j1, j2)))
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            rows.append((tag if (i < i2 and j < j2) else ("delete" if i < i2 else "insert"),
                         i + 1 if i < i2 else None, a[i] if i < i2 else "",
                         j + 1 if j < j2 else None, b[j] if j < j2 else ""))
    return rows



def fold_unchanged(rows, context=3):
    """Runs of unchanged lines longer than twice ``context`` become one ("skip", count) row."""
    out, run = [], []

    def flush(at_start, at_end):
        keep_head = 0 if at_start else context
        keep_tail = 0 if at_end else context
        if len(run) > keep_head + keep_tail + 1:
            out.extend(run[:keep_head])
            out.append(("skip", None, len(run) - keep_head - keep_tail, None, ""))
            out.extend(run[len(run) - keep_tail:])
        else:
            out.extend(run)
        run.clear()

    for row in rows:
        if row[0] == "equal":
            run.append(row)
            continue
        flush(not out, False)
        out.append(row)
    flush(not out, True)
    return out
