"""GET /volunteers and /volunteers/{number}: a person's units' volunteers and their certified hours.

The same access rules and queries as the volunteer pages (``volunteers.queries``);
ID numbers only ever as their last four digits.
"""
import re

from flask import jsonify
from flask_babel import gettext as _

from ..engine.perform import NotFound
from ..filling.personal_data import last_four
from ..models.units import utcnow
from ..volunteers import queries
from ..volunteers.stars import star_level
from .blueprint import bp
from .errors import BadRequest
from .representations import _unit
from .requests import MAX_ID, _arg_int, _arg_text, _user

VOLUNTEER_LIMIT = 100
VOLUNTEER_PAGE = 20
API_CURSOR = re.compile(r"^[0-9]{1,10}$")
NUMBER_LIMIT = 32


def _hours(value):
    return float(value) if value is not None else 0.0


def _summary(volunteer, year_hours):
    return {"number": volunteer.number, "name": volunteer.name, "id_number": last_four(volunteer.id_masked),
            "hours_total": _hours(volunteer.hours_total), "hours_this_year": _hours(year_hours),
            "person_times": volunteer.person_times, "stars": star_level(volunteer.hours_total)}


def _record(record, paths):
    item = {"held_on": record.held_on.isoformat(), "organising_unit": _unit(record.organising_unit),
            "hours": _hours(record.hours), "status": record.status}
    if queries.within(record.organising_unit, paths):
        item.update({"activity": record.activity_name, "place": record.place, "submission": record.submission_id})
    else:
        item.update({"activity": None, "place": None, "submission": None})
    return item


@bp.get("/volunteers")
def list_volunteers():
    q = (_arg_text("q", 50) or "").strip()
    cursor = _arg_text("cursor", 10)
    if cursor and not API_CURSOR.match(cursor):
        raise BadRequest(_("This cursor is not one this list gave out."), field="cursor")
    limit = _arg_int("limit", 1, VOLUNTEER_LIMIT, default=VOLUNTEER_PAGE)
    paths = queries.visible_paths(_user())
    if not paths:
        return jsonify({"items": [], "next_cursor": None})
    after = min(int(cursor), MAX_ID) if cursor else None
    found = queries.search(paths, utcnow().year, q=q or None, after=after, limit=limit)
    more = len(found) > limit
    found = found[:limit]
    return jsonify({"items": [_summary(v, h) for v, h in found],
                    "next_cursor": str(found[-1][0].id) if more else None})


@bp.get("/volunteers/<number>")
def get_volunteer(number):
    seen = queries.visible_volunteer(_user(), number) if len(number) <= NUMBER_LIMIT and "\x00" not in number \
        else None
    if seen is None:
        # 404 whether the number is unknown or not the caller's to see.
        raise NotFound(_("No such volunteer."))
    volunteer, paths = seen
    total = queries.year_total(volunteer, utcnow().year)
    body = _summary(volunteer, total.hours if total else None)
    body["records"] = [_record(r, paths) for r in queries.current_records(volunteer)]
    return jsonify(body)
