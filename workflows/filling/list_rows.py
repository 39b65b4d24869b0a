"""What a row of a submissions list shows besides its columns: the date, the campaign's name, the age.

The date is the form's ``summary.date`` field, copied onto the row when it
is saved (``activity_on``): a list never reads the answers.
"""
from flask_babel import gettext as _, ngettext

from ..engine.versions import released
from ..models.units import utcnow


def activity_dates(submissions):
    """{submission id: the date its form's summary names, else its month} (copied onto the row on save)."""
    return {s.id: s.activity_on.isoformat() if s.activity_on else s.period
            for s in submissions if s.activity_on or s.period}


def filter_labels(lang):
    """Readable names for every workflow state and campaign value, for filters and list rows."""
    states, campaigns = {}, {}
    for version in released():
        for name, state in version.workflow.schema.states.items():
            states.setdefault(name, state.label.get(lang))
        summary = version.form.schema.summary
        field = version.form.field(summary.campaign) if summary and summary.campaign else None
        for choice in (field.choices or []) if field else []:
            campaigns.setdefault(choice.value, choice.label.get(lang))
    return states, campaigns


def ages(submissions, now):
    """{submission id: how long it has waited in its state}, each distinct day count translated once."""
    labels, out = {}, {}
    for submission in submissions:
        days = (now - submission.state_since).days if submission.state_since else None
        if days not in labels:
            labels[days] = age(submission.state_since, now)
        out[submission.id] = labels[days]
    return out


def age(since, now=None):
    """How long ago, as a reader counts: "3 天", or "today"."""
    if since is None:
        return ""
    days = ((now or utcnow()) - since).days
    if days < 1:
        return _("today")
    return ngettext("%(num)d day", "%(num)d days", days)
