"""Operations on the organisation: units, people and their roles.

Each function checks its input, changes the session and leaves the commit to
the caller; bad input raises OrgError with a message for the person, and the
caller rolls back so nothing half-done remains.
"""
import re

from flask_babel import gettext as _
from sqlalchemy import String, func, literal, select, update

from ..extensions import db
from ..models import Role, RoleGrant, Unit, UnitKind, User

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 8


class OrgError(Exception):
    """Input the organisation cannot take; str() is the message for the user."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def _check_code(code, unit=None):
    if not CODE_PATTERN.match(code or ""):
        raise OrgError(_("A unit code uses letters, digits, '-', '_' or '.', at most 64 characters."), "code")
    taken = db.session.execute(select(Unit.id).where(func.lower(Unit.code) == code.lower())).scalar()
    if taken is not None and (unit is None or taken != unit.id):
        raise OrgError(_("The unit code %(code)s is already in use.", code=code), "code")


def _check_name(name):
    name = (name or "").strip()
    if not name:
        raise OrgError(_("A unit needs a name."), "name")
    if len(name) > 200:
        raise OrgError(_("A unit name has at most 200 characters."), "name")
    return name


def create_unit(parent, kind, code, name):
    if kind not in {k.value for k in UnitKind}:
        raise OrgError(_("Unknown unit kind."), "kind")
    if parent is None and db.session.execute(select(Unit.id).limit(1)).first():
        raise OrgError(_("Only the city office stands at the top of the tree."), "parent")
    if parent is not None and not parent.active:
        raise OrgError(_("A deactivated unit cannot take new units."), "parent")
    _check_code(code)
    unit = Unit(parent=parent, kind=kind, code=code, name=_check_name(name),
                depth=(parent.depth + 1) if parent else 0, path="")
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def rename_unit(unit, name, code=None):
    unit.name = _check_name(name)
    if code is not None and code != unit.code:
        _check_code(code, unit)
        unit.code = code


def move_unit(unit, new_parent):
    """Put ``unit`` and its whole subtree under ``new_parent`` in one UPDATE."""
    if unit.parent_id is None:
        raise OrgError(_("The city office cannot be moved."), "parent")
    if new_parent.id == unit.id or new_parent.path.startswith(unit.path):
        raise OrgError(_("A unit cannot be moved under itself or one of its own units."), "parent")
    if not new_parent.active:
        raise OrgError(_("A deactivated unit cannot take new units."), "parent")
    if new_parent.id == unit.parent_id:
        return
    old_path = unit.path
    new_path = f"{new_parent.path}{unit.id}/"
    shift = new_parent.depth + 1 - unit.depth
    db.session.execute(
        update(Unit).where(Unit.in_subtree(old_path))
        .values(path=literal(new_path, String).concat(func.substr(Unit.path, len(old_path) + 1)),
                depth=Unit.depth + shift)
        .execution_options(synchronize_session=False))
    unit.parent_id = new_parent.id
    db.session.flush()
    db.session.expire_all()


def deactivate_unit(unit, actor=None):
    """Deactivate the unit and everything under it; people and records stay.

    ``actor``, the administrator asking, may not cut off the unit its own
    admin grant sits on (or one above that grant) unless another of its admin
    grants stands higher still: a grant at a deactivated unit covers nothing,
    so that would lock the administrator out of what it just deactivated.
    """
    if unit.parent_id is None:
        raise OrgError(_("The city office cannot be deactivated."), "unit")
    if actor is not None:
        own = db.session.execute(
            select(Unit.path).join(RoleGrant, RoleGrant.unit_id == Unit.id)
            .where(RoleGrant.user_id == actor.id, RoleGrant.role == Role.ADMIN.value, Unit.active.is_(True))
        ).scalars().all()
        above = [p for p in own if unit.path.startswith(p) and p != unit.path]
        if not above and any(p.startswith(unit.path) for p in own):
            raise OrgError(_("Your administrator role is held at this unit or at a unit under it: "
                             "deactivating it would leave you unable to manage it."), "unit")
    db.session.execute(update(Unit).where(Unit.in_subtree(unit.path)).values(active=False)
                       .execution_options(synchronize_session=False))
    db.session.expire_all()


def reactivate_unit(unit):
    """Reactivate the unit and everything under it, in one UPDATE over the subtree's path range."""
    if unit.parent is not None and not unit.parent.active:
        raise OrgError(_("Reactivate the unit above it first."), "unit")
    db.session.execute(update(Unit).where(Unit.in_subtree(unit.path)).values(active=True)
                       .execution_options(synchronize_session=False))
    db.session.expire_all()


def _check_password(password):
    if len(password or "") < MIN_PASSWORD:
        raise OrgError(_("A password has at least %(n)d characters.", n=MIN_PASSWORD), "password")


def create_user(username, display_name, password, unit, password_hash=None):
    """A new active account; ``password_hash`` stands in for ``password`` when the hash is at hand already
    (the demo's many accounts share one password, hashed once: each hash costs a sizeable fraction of a second)."""
    username = (username or "").strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise OrgError(_("A username uses 2 to 64 lower-case letters, digits, '-', '_' or '.'."), "username")
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise OrgError(_("The username %(name)s is already taken.", name=username), "username")
    display_name = (display_name or "").strip()
    if not display_name:
        raise OrgError(_("Please give the person's name."), "display_name")
    if password_hash is None:
        _check_password(password)
    user = User(username=username, display_name=display_name[:100], unit=unit, active=True)
    if password_hash is None:
        user.set_password(password)
    else:
        user.password_hash = password_hash
    db.session.add(user)
    db.session.flush()
    return user


def reset_password(user, password):
    """A new password; it also ends the account's sessions (see User.set_password)."""
    _check_password(password)
    user.set_password(password)


def set_user_active(user, active, actor):
    if user.id == actor.id and not active:
        raise OrgError(_("You cannot deactivate your own account."), "user")
    if user.active and not active:
        # Otherwise reactivating would bring the old sessions back to life.
        user.end_sessions()
    user.active = active


def grant_role(user, role, unit, granted_by, allowed_paths):
    """Give ``user`` ``role`` at ``unit``; ``allowed_paths`` are the granting admin's subtrees."""
    if role not in {r.value for r in Role}:
        raise OrgError(_("Unknown role."), "role")
    if not any(unit.path.startswith(p) for p in allowed_paths):
        raise OrgError(_("You can only grant roles at units you administer."), "unit")
    if not unit.active:
        raise OrgError(_("Roles cannot be granted at a deactivated unit."), "unit")
    exists = db.session.execute(select(RoleGrant.id).where(
        RoleGrant.user_id == user.id, RoleGrant.unit_id == unit.id, RoleGrant.role == role)).first()
    if exists:
        raise OrgError(_("%(name)s already holds this role at %(unit)s.", name=user.display_name, unit=unit.name), "role")
    grant = RoleGrant(user=user, unit=unit, role=role, granted_by_id=granted_by.id if granted_by else None)
    db.session.add(grant)
    return grant


def revoke_role(grant, actor, allowed_paths):
    if not any(grant.unit.path.startswith(p) for p in allowed_paths):
        raise OrgError(_("You can only revoke roles at units you administer."), "unit")
    if grant.user_id == actor.id and grant.role == Role.ADMIN.value:
        raise OrgError(_("You cannot revoke your own administrator role."), "role")
    db.session.delete(grant)
