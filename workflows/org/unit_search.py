"""The type-ahead over units: the units under a person, for one or more of their roles, by name or code.

Pickers of a thousand units cannot be a flat list; the page asks here as
the person types. Only units inside the person's grants of the roles asked
for are answered, so the endpoint shows nobody a unit they could not pick.
"""
from flask import Blueprint, abort, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from ..access import grant_paths
from ..extensions import db
from ..models import Role, Unit, UnitKind

bp = Blueprint("unit_search", __name__, url_prefix="/org/units")
LIMIT = 20
ROLES = {role.value for role in Role}
KINDS = {kind.value for kind in UnitKind}


def search(user, roles, text, limit=LIMIT, kinds=()):
    """Active units in ``user``'s subtrees for ``roles`` whose name or code contains ``text``, by code;
    only units of ``kinds`` when given (a form open to some kinds of unit)."""
    paths = grant_paths(user, *roles)
    text = (text or "").strip()
    if not paths or not text:
        return []
    stmt = select(Unit).where(Unit.in_any_subtree(paths), Unit.active.is_(True),
                              or_(Unit.name.icontains(text, autoescape=True),
                                  Unit.code.icontains(text, autoescape=True)))
    if kinds:
        stmt = stmt.where(Unit.kind.in_(kinds))
    return db.session.execute(stmt.order_by(Unit.code, Unit.id).limit(limit)).scalars().all()


@bp.get("/search")
@login_required
def search_json():
    roles = request.args.getlist("role")
    kinds = request.args.getlist("kind")
    if not roles or any(role not in ROLES for role in roles) or any(kind not in KINDS for kind in kinds):
        abort(400)
    found = search(current_user, roles, request.args.get("q", "")[:100], kinds=kinds)
    parents = {u.id: u.name for u in db.session.execute(
        select(Unit).where(Unit.id.in_({u.parent_id for u in found if u.parent_id}))).scalars()} if found else {}
    return jsonify([{"id": u.id, "name": u.name, "code": u.code, "parent": parents.get(u.parent_id),
                     "label": f"{u.name}（{u.code}）"} for u in found])


def as_typeahead(field, *roles):
    """Render ``field`` (a select of units) as a type-ahead over the units ``roles`` reach; the select stays
    for pages read without JavaScript, and the server still checks the choice."""
    field.render_kw = dict(field.render_kw or {}, **{
        "data-typeahead": url_for("unit_search.search_json", role=[r.value for r in roles]),
        "data-placeholder": _("Type a unit's name or code")})
    return field
