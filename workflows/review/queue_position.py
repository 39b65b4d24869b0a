"""Where a review page opened from the queue came from, and the item after it.

The queue links each item with ``back`` (the queue's URL, cursor and filters
included) and ``at`` (the item's place in the queue's order). The review page
links back there, and to the next item in the same filtered order; a
decision keeps both, so the reviewer goes on without going back.
"""
from urllib.parse import parse_qsl, urlsplit

from flask import request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from . import queue
from ..redirects import is_same_site_path


def position(values=None, with_next=True):
    """{"back", "at", "next"} for the page being shown, or None when it was not opened from the queue."""
    values = request.values if values is None else values
    back, at = values.get("back"), values.get("at")
    if not is_same_site_path(back):
        return None
    parts = urlsplit(back)
    if parts.path != url_for("review.index"):
        return None
    found = {"back": back, "at": at if queue.decode_cursor(at) else None, "next": None}
    if with_next and found["at"]:
        filters = queue.Filters.from_args(MultiDict(parse_qsl(parts.query)))
        row = queue.next_after(current_user, filters, found["at"])
        if row is not None:
            found["next"] = url_for("submissions.show", submission_id=row.id, back=back,
                                    at=queue.encode_cursor(row.state_since, row.id))
    return found


def show_url(submission_id, back, at):
    """The review page again after a decision, still knowing its place in the queue."""
    return url_for("submissions.show", submission_id=submission_id, back=back, at=at)
