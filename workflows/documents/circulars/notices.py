"""The public notice pages (no sign-in): published circulars, newest first, and an Atom feed.

Only a circular that is signed (``published_at``) and whose PDF is recorded is reachable here; any
other id is a 404, the same answer as an id that does not exist.
"""
from flask import Blueprint, abort, make_response, render_template, send_file, url_for
from sqlalchemy import select

from ...extensions import db
from ...models import Circular
from . import render_jobs
from .kinds import KINDS

bp = Blueprint("notices", __name__, url_prefix="/notices")

PUBLIC = (Circular.published_at.is_not(None), Circular.pdf_sha256.is_not(None))


def published(limit=100):
    return db.session.execute(select(Circular).where(*PUBLIC)
                              .order_by(Circular.published_at.desc(), Circular.id.desc()).limit(limit)).scalars().all()


def public_circular(circular_id):
    circular = db.session.execute(select(Circular).where(Circular.id == circular_id, *PUBLIC)).scalar_one_or_none()
    if circular is None:
        abort(404)
    return circular


@bp.get("/")
def index():
    return render_template("notices/index.html", circulars=published(), kinds=KINDS)


@bp.get("/<int:circular_id>")
def show(circular_id):
    circular = public_circular(circular_id)
    return render_template("notices/show.html", circular=circular, prose=circular.submission.answers,
                           facts=circular.facts, kind=KINDS[circular.kind])


@bp.get("/<int:circular_id>.pdf")
def pdf(circular_id):
    circular = public_circular(circular_id)
    return send_file(render_jobs.path_of(circular), mimetype="application/pdf",
                     download_name=f"{circular.doc_number}.pdf")


@bp.get("/feed.atom")
def feed():
    circulars = published(50)
    body = render_template("notices/feed.xml", circulars=circulars, self_url=url_for(".feed", _external=True),
                           home_url=url_for(".index", _external=True))
    response = make_response(body)
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    return response
