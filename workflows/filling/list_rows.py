"""What a row of a submissions list shows besides its columns: the date, the campaign's name, the age.

The date sits in the answers (the form's ``summary.date`` field), which lists
never load whole: one query reads just that value for the page's rows.
"""
from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from ..engine.versions import form_spec_of, released
from ..extensions import db
from ..models import Submission
from ..models.units import utcnow


def activity_dates(submissions):
    """{submission id: the date its form's summary names, else its month}."""
    by_field = {}
    for submission in submissions:
        summary = form_spec_of(submission).schema.summary
        if summary and summary.date:
            by_field.setdefault(summary.date, []).append(submission.id)
    dates = {s.id: s.period for s in submissions if s.period}
    for name, ids in by_field.items():
        for submission_id, value in db.session.execute(
                select(Submission.id, Submission.answers[name].as_string()).where(Submission.id.in_(ids))):
            if value:
                dates[submission_id] = value
    return dates


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


def age(since, now=None):
    """How long ago, as a reader counts: "3 天", or "today"."""
    if since is None:
        return ""
    days = ((now or utcnow()) - since).days
    if days < 1:
        return _("today")
    return ngettext("%(num)d day", "%(num)d days", days)
