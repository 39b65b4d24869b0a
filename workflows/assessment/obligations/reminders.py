"""Reminders before a monthly obligation falls due: once per unit, obligation and month.

From OBLIGATION_REMINDER_DAYS working days before the deadline until the deadline itself, every
unit whose cell is still ``missing`` gets one notification to each of its fillers; the
``obligation_reminder`` row (unique per unit, obligation and month) records that it was sent, so
running the job again sends nothing new. A unit with something under review is not reminded.
"""
from datetime import date

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...jobs import job_kind
from ...models import ObligationReminder, Role, RoleGrant, User
from ...models.units import utcnow
from ...review.notifications import both_languages, notification
from ..periods import Month, due_for, nth_working_day
from . import rules as rules_module
from .evaluation import cutoff, evaluate_months, participating_units

JOB_KIND = "obligation_reminders"


def reminder_window(month, obligation, days_before):
    """(first day reminders go out, the deadline) for ``obligation`` of ``month``."""
    deadline = due_for(month, obligation.due_working_day)
    start = nth_working_day(month.next(), max(1, obligation.due_working_day - days_before))
    return start, deadline


@job_kind(JOB_KIND, retries=1)
def send_obligation_reminders(ctx=None, today=None):
    """Queue the reminders due today (``today``: ``YYYY-MM-DD``, for a run as of another day)."""
    now = utcnow()
    if today:
        day = date.fromisoformat(today)
        now = now.replace(year=day.year, month=day.month, day=day.day)
    days_before = current_app.config.get("OBLIGATION_REMINDER_DAYS", 3)
    rules = rules_module.current()
    month = Month.of(now.date()).previous()   # its obligations fall due this month
    due = []
    for obligation in rules.obligations:
        start, deadline = reminder_window(month, obligation, days_before)
        if start <= now.date() and now <= cutoff(deadline):
            due.append((obligation, deadline))
    if not due:
        return 0
    units = participating_units(rules)
    cells = evaluate_months([month], units, now=now, rules=rules, with_sources=False)
    period = str(month)
    sent_before = set(db.session.execute(select(ObligationReminder.unit_id, ObligationReminder.obligation)
                                         .where(ObligationReminder.period == period)).all())
    wanted = [(unit_id, obligation, deadline) for obligation, deadline in due for unit_id, _kind in units
              if (unit_id, obligation.key) not in sent_before
              and getattr(cells.get((unit_id, obligation.key, period)), "status", None) == "missing"]
    if not wanted:
        return 0
    fillers = {}
    for unit_id, user_id in db.session.execute(
            select(RoleGrant.unit_id, User.id).join(User, User.id == RoleGrant.user_id)
            .where(RoleGrant.role == Role.FILLER.value, User.active.is_(True),
                   RoleGrant.unit_id.in_({u for u, _o, _d in wanted}))):
        fillers.setdefault(unit_id, set()).add(user_id)
    sent = 0
    for unit_id, obligation, deadline in wanted:
        people = sorted(fillers.get(unit_id, ()))
        params = {"month": period, "obligation": both_languages(obligation.label), "deadline": deadline.isoformat()}
        for user_id in people:
            db.session.add(notification(user_id, "obligation_reminder", params))
        db.session.add(ObligationReminder(unit_id=unit_id, obligation=obligation.key, period=period,
                                          rule_version=rules.version, recipients=len(people)))
        sent += len(people)
    db.session.commit()
    return sent
