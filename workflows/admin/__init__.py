"""Administration pages: the unit tree and the people in it, scoped to the admin's subtree."""
from flask import abort
from flask_login import current_user
from sqlalchemy import select

from ..access import grant_paths
from ..extensions import db
from ..models import Role, Unit


def admin_paths():
    """The subtrees the current user administers; 403 when there are none."""
    paths = grant_paths(current_user, Role.ADMIN)
    if not paths:
        abort(403)
    return paths


def load_unit_in_scope(unit_id, paths):
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    if not any(unit.path.startswith(p) for p in paths):
        abort(403)
    return unit


def units_in_scope(paths, active_only=False):
    stmt = select(Unit).where(Unit.in_any_subtree(paths))
    if active_only:
        stmt = stmt.where(Unit.active.is_(True))
    return db.session.execute(stmt.order_by(Unit.path)).scalars().all()


def unit_choices(units, exclude_path=None):
    """(id, indented name) pairs in tree order for a select box."""
    ordered = tree_order(units)
    return [(u.id, "\u3000" * (u.depth - ordered[0].depth) + f"{u.name}（{u.code}）")
            for u in ordered if not (exclude_path and u.path.startswith(exclude_path))]


def tree_order(units):
    """Depth-first order with siblings sorted by code."""
    by_parent = {}
    ids = {u.id for u in units}
    for unit in units:
        by_parent.setdefault(unit.parent_id if unit.parent_id in ids else None, []).append(unit)
    out = []

    def walk(parent_id):
        for unit in sorted(by_parent.get(parent_id, []), key=lambda u: u.code):
            out.append(unit)
            walk(unit.id)
    walk(None)
    return out
