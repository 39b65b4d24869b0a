"""What a viewer may do with each of a volunteer's records: ask for a correction, answer one, revoke.

谁组织谁记录: the volunteer's units ask on the volunteer's behalf; only a
certifier at the organising unit (or an office above it) decides.
"""
from sqlalchemy import select

from ..access import has_role_at
from ..extensions import db
from ..models import Role, ServiceRecord
from .corrections import ASKING_ROLES


def asking_units(volunteer, user):
    """The units the volunteer serves with at which ``user`` may ask for a correction on their behalf."""
    return [m.unit for m in volunteer.memberships
            if any(has_role_at(user, role, m.unit) for role in ASKING_ROLES)]


def record_actions(volunteer, records, user):
    """{record key: what ``user`` may do with that record on the volunteer's page, and its earlier versions}."""
    units = asking_units(volunteer, user)
    keys = [r.record_key for r in records]
    earlier = {}
    if keys:
        for version in db.session.execute(select(ServiceRecord).where(
                ServiceRecord.record_key.in_(keys), ServiceRecord.is_current.is_(False))
                .order_by(ServiceRecord.record_key, ServiceRecord.version)).scalars():
            earlier.setdefault(version.record_key, []).append(version)
    actions = {}
    for record in records:
        decides = has_role_at(user, Role.CERTIFIER, record.organising_unit)
        active = record.status == "active"
        actions[record.record_key] = {
            "ask": units if active and not record.correction_open else [],
            "answer": decides and record.correction_open,
            "revoke": decides and active,
            "history": earlier.get(record.record_key, []),
        }
    return actions
