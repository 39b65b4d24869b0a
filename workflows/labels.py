"""Translated labels for the organisation's fixed vocabularies."""
from flask_babel import lazy_gettext as _l, lazy_pgettext

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
    Role.SIGNER.value: _l("Signer (office head)"),
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

# What a workflow action is called when its definition gives it no label:
# people read "审核通过", never "approve".
ACTIONS = {
    "submit": lazy_pgettext("workflow action", "Submit"),
    "withdraw": lazy_pgettext("workflow action", "Withdraw"),
    "approve": lazy_pgettext("workflow action", "Approve"),
    "return": lazy_pgettext("workflow action", "Return for changes"),
    "reject": lazy_pgettext("workflow action", "Reject"),
    "decline": lazy_pgettext("workflow action", "Decline"),
    "certify": lazy_pgettext("workflow action", "Certify"),
    "archive": lazy_pgettext("workflow action", "Archive"),
    "publish": lazy_pgettext("workflow action", "Publish"),
}
