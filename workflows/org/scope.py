"""Administration pages: the unit tree and the people in it, scoped to the admin's subtree.

Invariant: an administrator manages an account (its password, tokens,
status and roles) only when the account's home unit and every unit where it
holds a role lie inside the administrator's subtrees; ``manageable`` is the
one place that says so, for lists and single accounts alike.
"""
from flask import abort
from flask_login import current_user
from sqlalchemy import and_, exists, false, not_, or_, select
from sqlalchemy.orm import aliased

from ..access import grant_paths
from ..extensions import db
from ..models import Role, RoleGrant, Unit, User


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


def _inside(unit, paths):
    """``unit`` (an alias of Unit) lies in one of ``paths``: one range per path, as Unit.in_subtree."""
    ranges = [and_(unit.path >= low, unit.path < high) for low, high in map(Unit.subtree_range, paths)]
    return or_(*ranges) if ranges else false()


def manageable(paths):
    """SQL condition on User: an administrator of ``paths`` may manage the account.

    Its home unit is inside ``paths`` and no grant of any role, at an active
    unit or not, sits outside them: a role held above or beside the subtree
    belongs to someone else to manage.
    """
    home, held = aliased(Unit), aliased(Unit)
    return and_(
        exists().where(home.id == User.unit_id, _inside(home, paths)),
        not_(exists().where(RoleGrant.user_id == User.id, held.id == RoleGrant.unit_id,
                            not_(_inside(held, paths)))),
    )


def load_user_in_scope(user_id, paths):
    """The account ``user_id`` if the administrator of ``paths`` may manage it; 404 or 403 otherwise."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if not may_manage(user, paths):
        abort(403)
    return user


def may_manage(user, paths):
    return db.session.execute(select(User.id).where(User.id == user.id, manageable(paths))).first() is not None


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
