"""Stored uploads: checked by content, images re-encoded, kept under random names.

Every file under UPLOAD_DIR has a ``stored_file`` row, or is at most a day
old: the row is flushed before the file is written, and the periodic purge
sweeps files a crash left without their row. Image decoding is bounded per
process (UPLOAD_IMAGE_DECODES at once) and per image (UPLOAD_MAX_PIXELS,
UPLOAD_IMAGE_MAX_SIDE).
"""
import hashlib
import re
import secrets
import threading
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from forms import files as file_rules

from ..extensions import db
from ..jobs import job_kind
from ..models import StoredFile
from ..models.units import utcnow


def folder():
    return Path(current_app.config["UPLOAD_DIR"])


def path_of(stored):
    return folder() / stored.storage_name[:2] / stored.storage_name


_gates = {}
_gates_lock = threading.Lock()


def decode_gate():
    """The process-wide bound on image decodes running at once; threads beyond it wait their turn."""
    slots = current_app.config["UPLOAD_IMAGE_DECODES"]
    with _gates_lock:
        return _gates.setdefault(slots, threading.BoundedSemaphore(slots))


def reencode(stream, kind, name):
    """An uploaded image decoded and encoded again within this app's limits; raises UploadRefused."""
    limits = file_rules.ImageLimits(max_pixels=current_app.config["UPLOAD_MAX_PIXELS"],
                                    max_side=current_app.config["UPLOAD_IMAGE_MAX_SIDE"])
    return file_rules.reencode_image(stream, kind, name, limits, gate=decode_gate())


def store(upload, field_spec, unit, user):
    """Check ``upload`` (a werkzeug FileStorage) for ``field_spec`` and keep it; raises UploadRefused."""
    name = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
    kind, extension, mimetype = file_rules.check(upload.stream, name, field_spec.model)
    if kind in file_rules.IMAGE_TYPES:
        data = reencode(upload.stream, kind, name).data
    else:
        data = upload.stream.read()
    storage_name = f"{secrets.token_hex(16)}.{extension}"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stored = StoredFile(token=secrets.token_urlsafe(24), unit_id=unit.id, uploaded_by_id=user.id,
                        field_name=field_spec.name, original_name=f"{stem}.{extension}", mimetype=mimetype,
                        size=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_name=storage_name)
    db.session.add(stored)
    # Row first: a file whose transaction never commits is then a stray the purge sweeps.
    db.session.flush()
    _write_file(path_of(stored), data)
    return stored


def _write_file(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


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
def purge_unattached(ctx, days=7, stray_hours=24):
    """Delete uploads no submission took up within ``days`` (a form abandoned half-way),
    then files without a row older than ``stray_hours`` (a crash between writing and committing)."""
    cutoff = utcnow() - timedelta(days=days)
    stale = db.session.execute(select(StoredFile).where(StoredFile.submission_id.is_(None),
                                                        StoredFile.created_at < cutoff)).scalars().all()
    for stored in stale:
        path_of(stored).unlink(missing_ok=True)
        db.session.delete(stored)
    db.session.commit()
    sweep_strays(timedelta(hours=stray_hours))


# Only names store() gives out are swept: a misconfigured UPLOAD_DIR never loses anything else.
_STORAGE_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{1,8}$")
_SWEEP_BATCH = 500


def sweep_strays(older_than):
    """Delete files in UPLOAD_DIR that no row names, last written more than ``older_than`` ago.

    An upload in flight is seconds old, so its file is never taken before its row commits.
    """
    cutoff = time.time() - older_than.total_seconds()
    root = folder()
    candidates = {}
    for sub in (root.iterdir() if root.is_dir() else ()):
        if not sub.is_dir() or len(sub.name) != 2:
            continue
        for path in sub.iterdir():
            if (_STORAGE_NAME.match(path.name) and path.name[:2] == sub.name and path.is_file()
                    and path.stat().st_mtime < cutoff):
                candidates[path.name] = path
    names = sorted(candidates)
    removed = 0
    for start in range(0, len(names), _SWEEP_BATCH):
        batch = names[start:start + _SWEEP_BATCH]
        known = set(db.session.execute(select(StoredFile.storage_name)
                                       .where(StoredFile.storage_name.in_(batch))).scalars())
        for name in batch:
            if name not in known:
                candidates[name].unlink(missing_ok=True)
                removed += 1
    if removed:
        current_app.logger.info("swept %d upload file(s) that had no stored_file row", removed)
    return removed
