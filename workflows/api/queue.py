"""GET /queue: the review queue, a page at a time, with the API's own cursor."""
import re
from datetime import datetime, timedelta

from flask import jsonify, request
from flask_babel import gettext as _

from ..models.units import utcnow
from ..review import queue
from .blueprint import bp
from .errors import BadRequest
from .representations import _queue_item
from .requests import MAX_ID, _arg_int, _arg_text, _user

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
QUEUE_LIMIT = 100

# The API's cursor is "<microseconds since 1970 (UTC)>_<submission id>": every text of that shape is a
# position (openapi.CURSOR_PATTERN says so), so a well-formed cursor is never refused.
API_CURSOR = re.compile(r"^([0-9]{1,16})_([0-9]{1,10})$")
EPOCH = datetime(1970, 1, 1)


def _api_cursor(queue_cursor):
    if queue_cursor is None:
        return None
    when, ident = queue.decode_cursor(queue_cursor)
    return f"{(when - EPOCH) // timedelta(microseconds=1)}_{ident}"


def _queue_cursor(api_cursor):
    match = API_CURSOR.match(api_cursor)
    if not match:
        raise BadRequest(_("This cursor is not one the queue gave out."), field="cursor")
    when = EPOCH + timedelta(microseconds=int(match.group(1)))
    return queue.encode_cursor(when, min(int(match.group(2)), MAX_ID))


@bp.get("/queue")
def queue_page():
    month = _arg_text("month", 7)
    if month and not MONTH.match(month):
        raise BadRequest(_("“month” is written YYYY-MM."), field="month")
    overdue = request.args.get("overdue") or "0"
    if overdue not in ("0", "1"):
        raise BadRequest(_("“overdue” is 1 or 0."), field="overdue")
    cursor = _arg_text("cursor", 80)
    if cursor:
        cursor = _queue_cursor(cursor)
    filters = queue.Filters(unit_id=_arg_int("unit", 1, MAX_ID), campaign=_arg_text("campaign"), period=month,
                            state=_arg_text("state", 32), overdue=overdue == "1")
    limit = _arg_int("limit", 1, QUEUE_LIMIT, default=queue.PAGE)
    result = queue.page(_user(), filters, cursor=cursor, limit=limit)
    now = utcnow()
    return jsonify({"items": [_queue_item(s, now) for s in result.items],
                    "next_cursor": _api_cursor(result.next_cursor),
                    "counts": result.counts})
