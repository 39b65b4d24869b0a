"""Stored uploads: checked by content, images re-encoded, kept under random names."""
import hashlib
import secrets
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from forms import files as file_rules

from .extensions import db
from .jobs import job_kind
from .models import StoredFile
from .models.units import utcnow


def folder():
    return Path(current_app.config["UPLOAD_DIR"])


def path_of(stored):
    return folder() / stored.storage_name[:2] / stored.storage_name


def store(upload, field_spec, unit, user):
    """Check ``upload`` (a werkzeug FileStorage) for ``field_spec`` and keep it; raises UploadRefused."""
    name = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
    kind, extension, mimetype = file_rules.check(upload.stream, name, field_spec.model)
    if kind in file_rules.IMAGE_TYPES:
        data, _size = file_rules.reencode_image(upload.stream, kind)
    else:
        data = upload.stream.read()
    storage_name = f"{secrets.token_hex(16)}.{extension}"
    target = folder() / storage_name[:2] / storage_name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stored = StoredFile(token=secrets.token_urlsafe(24), unit_id=unit.id, uploaded_by_id=user.id,
                        field_name=field_spec.name, original_name=f"{stem}.{extension}", mimetype=mimetype,
                        size=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_name=storage_name)
    db.session.add(stored)
    db.session.flush()
    return stored


def kept(tokens, unit, submission=None):
    """The stored files behind ``tokens`` that this form may reuse: same unit, not someone else's submission."""
    tokens = [t for t in tokens if t]
    if not tokens:
        return {}
    rows = db.session.execute(select(StoredFile).where(StoredFile.token.in_(tokens),
                                                       StoredFile.unit_id == unit.id)).scalars()
    allowed = (None, submission.id if submission else None)
    return {f.token: f for f in rows if f.submission_id in allowed}


def attach(submission, answers, spec):
    """Link every file the answers refer to with ``submission``."""
    tokens = [ref["id"] for f in spec.fields if f.type in ("image", "file") for ref in answers.get(f.name) or []]
    if not tokens:
        return
    for stored in db.session.execute(select(StoredFile).where(StoredFile.token.in_(tokens))).scalars():
        if stored.unit_id == submission.unit_id and stored.submission_id in (None, submission.id):
            stored.submission_id = submission.id


@job_kind("purge_unattached_uploads", retries=1)
def purge_unattached(ctx, days=7):
    """Delete uploads no submission took up within ``days`` (a form abandoned half-way)."""
    cutoff = utcnow() - timedelta(days=days)
    stale = db.session.execute(select(StoredFile).where(StoredFile.submission_id.is_(None),
                                                        StoredFile.created_at < cutoff)).scalars().all()
    for stored in stale:
        path_of(stored).unlink(missing_ok=True)
        db.session.delete(stored)
    db.session.commit()
