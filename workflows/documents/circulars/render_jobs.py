"""The workers' part: the signed circular's PDF, and a draft's preview.

The signed PDF is written beside the job results under ``circulars/`` through a temporary file and
a rename, and recorded (name, sha256, pages) only once complete: a worker killed mid-render leaves
no half file and no record, and the job is retried or marked failed by the job machinery; the
public page lists a circular only once its PDF is recorded.
"""
import hashlib
import os
from pathlib import Path

from flask import current_app

from ...extensions import db
from ...jobs import job_kind
from ...models import Circular
from ...models.units import utcnow
from . import rendering


def folder():
    path = Path(current_app.config["RESULT_DIR"]) / "circulars"
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(circular):
    return folder() / circular.pdf_name


def processes():
    """Parts at once under RQ; a job run in-process keeps a long circular in one piece, rendered by a
    child (``rendering.render_pdf``'s ``in_child``), so its memory is never the web process's."""
    from ...jobs import dispatcher
    return current_app.config["PDF_RENDER_PROCESSES"] if dispatcher().mode == "rq" else 1


@job_kind("circular_pdf", retries=2, timeout=900)
def render_signed(ctx, circular_id, public_url):
    circular = db.session.get(Circular, circular_id)
    ctx.progress(5)
    name = f"{circular.id}-{circular.number_year}-{circular.sequence}.pdf"
    target = folder() / name
    partial = target.with_suffix(f".{os.getpid()}.part")
    pages = rendering.render_pdf(circular.kind, circular.facts, circular.submission.answers, circular.office.name,
                                 partial, doc_number=circular.doc_number, issued_on=circular.signed_on,
                                 public_url=public_url, processes=processes(), in_child=True)
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    os.replace(partial, target)
    circular.pdf_name, circular.pdf_sha256, circular.pdf_pages = name, digest, pages
    circular.rendered_at = utcnow()
    db.session.commit()


@job_kind("circular_preview", retries=0, timeout=900)
def render_preview(ctx, circular_id):
    """The draft as it stands: unnumbered, marked as a draft, the job's own result file."""
    circular = db.session.get(Circular, circular_id)
    ctx.progress(10)
    target = ctx.result_file(f"circular-{circular.id}-draft.pdf", "application/pdf")
    rendering.render_pdf(circular.kind, circular.facts, circular.submission.answers, circular.office.name, target,
                         draft=True, processes=processes(), in_child=True)
