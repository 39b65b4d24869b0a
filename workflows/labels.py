"""Translated labels for the organisation's fixed vocabularies."""
from flask_babel import lazy_gettext as _l

from .models import Role, UnitKind

UNIT_KINDS = {
    UnitKind.OFFICE.value: _l("Civilization office"),
    UnitKind.CIVILIZED_UNIT.value: _l("Civilized unit"),
    UnitKind.COMMUNITY.value: _l("Community"),
    UnitKind.VOLUNTEER_ORG.value: _l("Volunteer organisation"),
    UnitKind.TEAM.value: _l("Volunteer team"),
}

ROLES = {
    Role.FILLER.value: _l("Filler"),
    Role.CERTIFIER.value: _l("Certifier"),
    Role.REVIEWER.value: _l("Reviewer"),
    Role.OFFICE.value: _l("City office"),
    Role.ADMIN.value: _l("Administrator"),
}

JOB_STATES = {
    "queued": _l("Queued"),
    "running": _l("Running"),
    "done": _l("Done"),
    "failed": _l("Failed"),
}

SUBMISSION_STATES = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
}
