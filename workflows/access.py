"""Who may do what where: a role held at a unit covers that unit's subtree."""
from flask import abort, g, has_app_context
from flask_login import current_user
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import Role, RoleGrant, Unit


def _grants(user):
    """Every (role, unit path) ``user`` holds at an active unit: one query per person per request."""
    cache = g.setdefault("_grants", {})
    if user.id not in cache:
        cache[user.id] = db.session.execute(
            select(RoleGrant.role, Unit.path).join(Unit, Unit.id == RoleGrant.unit_id)
            .where(RoleGrant.user_id == user.id, Unit.active.is_(True))).all()
    return cache[user.id]


def prime_grants(user_id, rows):
    """Grants read along with the account (the sign-in check), so the request asks for them no more."""
    g.setdefault("_grants", {})[user_id] = [(role, path) for role, path in rows if role is not None and path]


def grant_paths(user, *roles):
    """Paths of the units where ``user`` holds any of ``roles`` (cached per request)."""
    if user is None or not user.is_authenticated:
        return []
    cache = g.setdefault("_grant_paths", {})
    key = (user.id, roles)
    if key not in cache:
        wanted = {r.value if isinstance(r, Role) else r for r in roles}
        paths = sorted({path for role, path in _grants(user) if role in wanted}, key=len)
        # A grant nested inside another one of the same role adds nothing.
        kept = []
        for path in paths:
            if not any(path.startswith(p) for p in kept):
                kept.append(path)
        cache[key] = kept
    return cache[key]


def holds_at(user, role, unit):
    """``user`` holds ``role`` at ``unit`` itself, not only above it."""
    role = role.value if isinstance(role, Role) else role
    return user is not None and user.is_authenticated and any(
        r == role and path == unit.path for r, path in _grants(user))


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
    g.pop("_grants", None)


@event.listens_for(Session, "after_flush")
def _grants_changed(session, _context):
    # A grant given or taken, or a unit moved or deactivated, in this request: ask again.
    if has_app_context() and any(isinstance(o, (RoleGrant, Unit))
                                 for o in (*session.new, *session.dirty, *session.deleted)):
        forget_grants()


def city_office_paths(user):
    """The subtrees of ``user``'s office and administrator grants when one of them is at the top of the
    tree (the city office: city-wide plans, tables and recomputing); else []."""
    paths = grant_paths(user, Role.OFFICE, Role.ADMIN)
    if not paths:
        return []
    at_top = db.session.execute(select(Unit.id).where(Unit.path.in_(paths), Unit.depth == 0).limit(1)).first()
    return paths if at_top else []
