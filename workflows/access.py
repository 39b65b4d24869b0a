"""Who may do what where: a role held at a unit covers that unit's subtree."""
from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from .extensions import db
from .models import Role, RoleGrant, Unit


def grant_paths(user, *roles):
    """Paths of the units where ``user`` holds any of ``roles`` (cached per request)."""
    if user is None or not user.is_authenticated:
        return []
    cache = g.setdefault("_grant_paths", {})
    key = (user.id, roles)
    if key not in cache:
        wanted = [r.value if isinstance(r, Role) else r for r in roles]
        rows = db.session.execute(
            select(Unit.path).join(RoleGrant, RoleGrant.unit_id == Unit.id)
            .where(RoleGrant.user_id == user.id, RoleGrant.role.in_(wanted), Unit.active.is_(True))
        ).scalars().all()
        # A grant nested inside another one of the same role adds nothing.
        rows.sort(key=len)
        kept = []
        for path in rows:
            if not any(path.startswith(p) for p in kept):
                kept.append(path)
        cache[key] = kept
    return cache[key]


def has_role_at(user, role, unit):
    return any(unit.path.startswith(p) for p in grant_paths(user, role))


# Who may read a submission: any role at its unit or above it.
VIEW_ROLES = (Role.FILLER, Role.CERTIFIER, Role.REVIEWER, Role.OFFICE, Role.SIGNER, Role.ADMIN)


def can_view(user, submission):
    return any(has_role_at(user, role, submission.unit) for role in VIEW_ROLES)


def has_role_anywhere(user, role):
    return bool(grant_paths(user, role))


def require_role_at(role, unit, user=None):
    if not has_role_at(user or current_user, role, unit):
        abort(403)


def require_role_anywhere(role, user=None):
    if not has_role_anywhere(user or current_user, role):
        abort(403)


def units_for(user, role):
    """A select of the units ``user`` may act on as ``role``: one indexed range query."""
    return select(Unit).where(Unit.in_any_subtree(grant_paths(user, role)))


def forget_grants():
    g.pop("_grant_paths", None)


def city_office_paths(user):
    """The subtrees of ``user``'s office and administrator grants when one of them is at the top of the
    tree (the city office: city-wide plans, tables and recomputing); else []."""
    paths = grant_paths(user, Role.OFFICE, Role.ADMIN)
    if not paths:
        return []
    at_top = db.session.execute(select(Unit.id).where(Unit.path.in_(paths), Unit.depth == 0).limit(1)).first()
    return paths if at_top else []
