"""Form definitions as stored versions: drafts, publishing with a compatibility check, retiring.

Only a draft changes; a published version's source is never written again,
because submissions pin (key, version, sha256) and are always shown with it.
The caller commits (views commit once per request).
"""
import re

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from forms.compat import CHOICE_TYPES, compare
from forms.definition import DefinitionError, Problem, load_definition, parse_yaml

from ..extensions import db
from ..models import FormVersion, Submission
from ..models.units import utcnow

DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"
_LINE_BREAKS = re.compile(r"\r\n?")


class FormVersionError(Exception):
    """An operation that does not apply to this version in its state; str() is for people."""


class DefinitionRejected(FormVersionError):
    """The source cannot be stored: ``problems`` are Problems (path, message, line)."""

    def __init__(self, problems):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


def normalise(source):
    """Line breaks as \\n (browsers send \\r\\n from a textarea), no byte-order mark."""
    return _LINE_BREAKS.sub("\n", source or "").lstrip("\ufeff")


def compile_source(source):
    """The FormSpec of ``source``, or DefinitionRejected with its problems."""
    try:
        return load_definition(source)
    except DefinitionError as exc:
        raise DefinitionRejected(exc.problems) from None


def _line(source, *loc):
    try:
        return parse_yaml(source)[1].get(tuple(loc))
    except DefinitionError:
        return None


def versions_of(key):
    return db.session.execute(select(FormVersion).where(FormVersion.key == key)
                              .order_by(FormVersion.version.desc())).scalars().all()


def get_version(key, version):
    return db.session.execute(select(FormVersion).where(FormVersion.key == key, FormVersion.version == version)
                              ).scalar_one_or_none()


def create_draft(source, user):
    """Store ``source`` as a new draft; its version must be above every version of its key."""
    source = normalise(source)
    spec = compile_source(source)
    highest = db.session.execute(select(func.max(FormVersion.version)).where(FormVersion.key == spec.key)
                                 ).scalar()
    if highest is not None and spec.version <= highest:
        raise _version_taken(source, spec, highest)
    fv = FormVersion(key=spec.key, version=spec.version, sha256=spec.sha256, source=source,
                     title=spec.schema.title.zh[:200], status=DRAFT,
                     created_by_id=getattr(user, "id", None))
    db.session.add(fv)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone stored the same key and version a moment ago.
        db.session.rollback()
        raise _version_taken(source, spec, spec.version) from None
    return fv


def _version_taken(source, spec, highest):
    return DefinitionRejected([Problem(
        "version", _("version %(version)d of %(key)s already exists; a new version needs a number "
                     "greater than %(highest)d", version=spec.version, key=spec.key, highest=highest),
        _line(source, "version"))])


def update_draft(fv, source, user=None):
    """Replace a draft's source; its key and version stay what they are."""
    if fv.status != DRAFT:
        raise FormVersionError(_("Version %(version)d of %(key)s is %(status)s and can no longer be changed; "
                                 "create a new version instead.", version=fv.version, key=fv.key,
                                 status=status_label(fv.status)))
    source = normalise(source)
    spec = compile_source(source)
    problems = []
    if spec.key != fv.key:
        problems.append(Problem("key", _("the key must stay %(key)s in this draft; a different key is a new "
                                         "form", key=fv.key), _line(source, "key")))
    if spec.version != fv.version:
        problems.append(Problem("version", _("the version must stay %(version)d in this draft",
                                             version=fv.version), _line(source, "version")))
    if problems:
        raise DefinitionRejected(problems)
    fv.source = source
    fv.sha256 = spec.sha256
    fv.title = spec.schema.title.zh[:200]
    return fv


def previous_published(fv):
    """The newest version of the key that was ever published (retired ones count), below ``fv``."""
    return db.session.execute(
        select(FormVersion).where(FormVersion.key == fv.key, FormVersion.version < fv.version,
                                  FormVersion.status.in_((PUBLISHED, RETIRED)))
        .order_by(FormVersion.version.desc()).limit(1)).scalar_one_or_none()


def compatibility(fv):
    """(previous published version or None, findings) for publishing ``fv``."""
    if fv.status != DRAFT:
        raise FormVersionError(_("Only a draft can be published."))
    newer = db.session.execute(
        select(FormVersion.version).where(FormVersion.key == fv.key, FormVersion.version > fv.version,
                                          FormVersion.status.in_((PUBLISHED, RETIRED)))
        .order_by(FormVersion.version.desc()).limit(1)).scalar()
    if newer is not None:
        raise FormVersionError(_("Version %(newer)d of %(key)s is already published; this older draft can no "
                                 "longer be published.", newer=newer, key=fv.key))
    new_spec = compile_source(fv.source)
    previous = previous_published(fv)
    if previous is None:
        return None, []
    old_spec = compile_source(previous.source)
    paths = [f.path for f in old_spec.walk() if f.type in CHOICE_TYPES]
    used = used_choice_values(fv.key, paths) if paths else {}
    return previous, compare(old_spec, new_spec, used)


def publish(fv, user=None):
    """Publish a draft: new submissions start with it. Returns the compatibility findings."""
    _previous, findings = compatibility(fv)
    fv.status = PUBLISHED
    fv.published_at = utcnow()
    return findings


def retire(fv):
    """A retired version keeps its submissions; new ones can no longer start with it."""
    if fv.status != PUBLISHED:
        raise FormVersionError(_("Only a published version can be retired."))
    fv.status = RETIRED
    fv.retired_at = utcnow()
    return fv


def newest_released(key):
    """The newest version of ``key`` that was ever published (retired too): what workflows are checked against."""
    return db.session.execute(
        select(FormVersion).where(FormVersion.key == key, FormVersion.status.in_((PUBLISHED, RETIRED)))
        .order_by(FormVersion.version.desc()).limit(1)).scalar_one_or_none()


def latest_published(key):
    return db.session.execute(
        select(FormVersion).where(FormVersion.key == key, FormVersion.status == PUBLISHED)
        .order_by(FormVersion.version.desc()).limit(1)).scalar_one_or_none()


def used_choice_values(key, paths=None):
    """{field path: choice values old answers of ``key`` hold}, e.g. {"theme": {"lantern"}, "roster[].kind": …}.

    Read in Python over the submissions' answers (a JSON column on both
    databases); ``paths`` limits what is collected.
    """
    wanted = set(paths) if paths is not None else None
    used = {}

    def note(path, value):
        if wanted is not None and path not in wanted:
            return
        if isinstance(value, str):
            used.setdefault(path, set()).add(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    used.setdefault(path, set()).add(item)

    rows = db.session.execute(select(Submission.answers).where(Submission.form_key == key)
                              .execution_options(yield_per=500)).scalars()
    for answers in rows:
        if not isinstance(answers, dict):
            continue
        for name, value in answers.items():
            if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
                for row in value:
                    for column, cell in row.items():
                        note(f"{name}[].{column}", cell)
            else:
                note(name, value)
    return used


def status_label(status):
    return {DRAFT: _("draft"), PUBLISHED: _("published"), RETIRED: _("retired")}.get(status, status)
