"""While a unit fills a roster: which rows are people already registered with that unit.

Only the unit's own register is consulted (a membership at exactly that
unit), and only what the unit already knows comes back: the registered name
and the volunteer number. Whether the same person serves elsewhere, their
hours or other units are never said. Numbers arrive in a POST body, are
matched by their keyed hash and are never logged or echoed.
"""
from flask import Blueprint, abort, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import has_role_at
from ..extensions import db
from ..filling import roster_people
from ..models import Role, Unit, Volunteer, VolunteerMembership

bp = Blueprint("roster_lookup", __name__)
ENDPOINT = "roster_lookup.lookup"
# One typed number at a time; a pasted roster is matched when the draft is saved.
MAX_NUMBER = 32


def registered_here(unit, hashes):
    """{id hash: (volunteer number, name)} of the people among ``hashes`` registered with ``unit``."""
    if not hashes:
        return {}
    rows = db.session.execute(
        select(Volunteer.id_hash, Volunteer.number, Volunteer.name)
        .join(VolunteerMembership, VolunteerMembership.volunteer_id == Volunteer.id)
        .where(VolunteerMembership.unit_id == unit.id, Volunteer.id_hash.in_(list(hashes)))).all()
    return {digest: (number, name) for digest, number, name in rows}


@bp.post("/volunteers/lookup")
@login_required
def lookup():
    body = request.get_json(silent=True) if request.is_json else request.form
    body = body if hasattr(body, "get") else {}
    try:
        unit = db.session.get(Unit, int(body.get("unit")))
    except (TypeError, ValueError):
        unit = None
    if unit is None or not (has_role_at(current_user, Role.FILLER, unit)
                            or has_role_at(current_user, Role.CERTIFIER, unit)):
        abort(404)
    number = body.get("number")
    if not isinstance(number, str) or len(number) > MAX_NUMBER:
        return jsonify({"valid": False}), 400
    found = roster_people.who(unit, [number])
    if not found:
        return jsonify({"valid": False})
    person = next(iter(found.values()))
    answer = {"valid": True, "registered": person is not None}
    if person is not None:
        answer.update(number=person[0], name=person[1])
    response = jsonify(answer)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def init_app(app):
    app.register_blueprint(bp)
    roster_people.install(registered_here, ENDPOINT)
