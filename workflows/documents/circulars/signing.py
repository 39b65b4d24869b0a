"""What signing (签发) does, as the ``sign`` transition's effects, all in the signing transaction.

``number_circular`` gives the 文号; ``publish_circular`` makes the circular public and moves every
activity report it covers from 已归档 to 已通报 through that report's own ``publish`` transition (on
its own audit chain) — if any cannot move, the whole signing is refused and the message names
them; ``render_circular`` hands the PDF to a worker, which starts only after the commit.
"""
from datetime import date

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ...engine.effects import effect
from ...engine.perform import ActionError, Invalid, perform
from ...extensions import db
from ...jobs import QueueUnavailable, enqueue
from ...models import Circular, CircularReceipt, CircularReport, Submission, Unit
from ...models.units import utcnow
from .facts import COVERED_STATE
from .kinds import kind_of
from .numbering import doc_number, prefix_of, take_number


def circular_of(submission):
    circular = db.session.execute(select(Circular).where(Circular.submission_id == submission.id)).scalar_one_or_none()
    if circular is None:
        raise Invalid(_("This submission is not a circular composed by the office."))
    return circular


@effect("number_circular")
def number(context):
    circular = circular_of(context.submission)
    prefix = prefix_of(circular.office)
    if not prefix:
        raise Invalid(_("%(office)s has no document-number prefix yet (such as 阜文明办); the administrator sets it "
                        "with “flask circulars prefix”.", office=circular.office.name))
    signed_on = date.today()
    sequence = take_number(circular.office, signed_on.year)
    circular.number_year, circular.sequence = signed_on.year, sequence
    circular.doc_number = doc_number(prefix, signed_on.year, sequence)
    circular.signed_on, circular.signed_by_id = signed_on, context.actor.id


@effect("publish_circular")
def publish(context):
    circular = circular_of(context.submission)
    covered = db.session.execute(
        select(Submission.id, Submission.state, Submission.title, Unit.name)
        .join(CircularReport, CircularReport.submission_id == Submission.id)
        .join(Unit, Unit.id == Submission.unit_id)
        .where(CircularReport.circular_id == circular.id).order_by(Submission.id)).all()
    stuck = [(sid, title, unit) for sid, state, title, unit in covered if state != COVERED_STATE]
    if stuck:
        names = "；".join(f"#{sid}“{title or ''}”（{unit}）" for sid, title, unit in stuck[:10])
        raise Invalid(_("Nothing was signed or published: %(n)d of the reports this circular covers are no longer "
                        "archived (%(names)s). Refresh the facts, then sign again.", n=len(stuck), names=names),
                      reports=[sid for sid, _t, _u in stuck])
    for sid, _state, _title, _unit in covered:
        try:
            perform(sid, "publish", context.actor, comment=circular.doc_number, commit=False)
        except ActionError as refused:
            raise Invalid(_("Nothing was signed or published: report #%(id)d cannot move to published: "
                            "%(why)s", id=sid, why=refused.message), reports=[sid]) from None
    circular.published_at = utcnow()
    kind = kind_of(circular.kind)
    for unit_id in sorted(set(kind.names(circular.facts))):
        db.session.add(CircularReceipt(circular_id=circular.id, unit_id=unit_id))


def public_url(circular):
    """The public page's address, for the QR code: absolute inside a request, the path elsewhere."""
    try:
        return url_for("notices.show", circular_id=circular.id, _external=True)
    except RuntimeError:
        return f"/notices/{circular.id}"


@effect("render_circular")
def render(context):
    circular = circular_of(context.submission)
    db.session.flush()
    try:
        enqueue("circular_pdf", {"circular_id": circular.id, "public_url": public_url(circular)},
                requested_by=context.actor, unit=circular.office)
    except QueueUnavailable:
        raise Invalid(_("The job queue cannot be reached right now, so the signed circular could not be rendered; "
                        "nothing was signed. Please try again later.")) from None
