"""A person's notifications: opened (and so read) through one link, all marked read at once, rendered in the
reader's language."""
from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import update

from . import notifications
from ..extensions import db
from ..filling.submissions import language
from ..models import Notification
from ..models.units import utcnow
from ..redirects import safe_next

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

# Where a kind's link goes when it is not the submission's page: kind → endpoint taking submission_id.
TARGETS = {"circular_reminder": "circular_receipts.read_for_submission"}


@bp.app_template_global("notification_text")
def notification_text(notification):
    return notifications.render(notification, language())


@bp.get("/<int:notification_id>")
@login_required
def open_(notification_id):
    """Follow a notification to what it is about. Reading it is what marks it read, so this GET records
    that (idempotently, and only for the reader's own notification: nothing another site could abuse)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    if notification.submission_id is None:
        return redirect(url_for("home.index"))
    return redirect(url_for(TARGETS.get(notification.kind, "submissions.show"),
                            submission_id=notification.submission_id))


@bp.post("/read")
@login_required
def read_all():
    db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                  Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return redirect(safe_next(request.form.get("next"), "home.index"))
