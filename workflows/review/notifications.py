"""Notifications: the ``notify`` effect tells the next actors; overdue items get reminders.

A notification is stored as its kind and parameters and rendered in the
reader's language when read (``render``); its ``text`` keeps the Chinese
wording, which rows written before the parameters existed show as they are.
Every notification the app writes (reviews here, obligation reminders,
record corrections, circular reminders) is made by ``notification`` with a
kind from ``MESSAGES``, so there is one way to word one and one to read it.
"""
from datetime import timedelta

from flask import g, has_app_context
from flask_babel import force_locale, gettext as _
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from ..engine.effects import effect
from ..engine.versions import form_spec_of
from ..extensions import db
from ..jobs import job_kind
from ..models import Notification, RoleGrant, Submission, Unit, User
from ..models.units import utcnow


def responsible_ids(submission, roles):
    """Ids of the active people holding any of ``roles`` at the submission's unit or above it.

    Kept for the rest of the request per (unit, roles): a bulk approve tells the same people about many
    items of one unit."""
    if not roles:
        return []
    key = (submission.unit_id, tuple(roles))
    cache = g.setdefault("_responsible", {})
    if key not in cache:
        prime_responsible([submission.unit], roles)
    return cache[key]


def prime_responsible(units, roles):
    """Who holds ``roles`` at or above each of ``units``, for the rest of the request, in one statement.

    A bulk approve primes its items' units at once: telling the next people about 100 items of 100 units
    then costs one query, not one per unit."""
    cache = g.setdefault("_responsible", {})
    roles = tuple(roles)
    wanted = {unit.id: unit for unit in units if (unit.id, roles) not in cache}
    if not roles or not wanted:
        return
    chains = {unit_id: set(unit.ancestor_ids()) for unit_id, unit in wanted.items()}
    grants = db.session.execute(
        select(RoleGrant.unit_id, User.id).join(RoleGrant, RoleGrant.user_id == User.id)
        .join(Unit, Unit.id == RoleGrant.unit_id)
        .where(RoleGrant.role.in_(roles), RoleGrant.unit_id.in_(set().union(*chains.values())),
               User.active.is_(True), Unit.active.is_(True)).distinct()).all()
    for unit_id, chain in chains.items():
        cache[(unit_id, roles)] = sorted({user_id for at, user_id in grants if at in chain})


@event.listens_for(Session, "after_flush")
def _people_changed(session, _context):
    # A grant, an account or a unit changed in this request: who is responsible is asked again.
    if has_app_context() and any(isinstance(o, (RoleGrant, Unit, User))
                                 for o in (*session.new, *session.dirty, *session.deleted)):
        g.pop("_responsible", None)


def next_roles(workflow, submission, state=None):
    """The roles that act next on ``submission`` (in ``state``, by default the one it is in)."""
    roles = {t.model.by for t in workflow.available(state or submission.state)}
    return sorted(r for r in roles if r != "owner")


def N_(msgid):
    """Marks a msgid for extraction (Babel's default keyword); it is translated when read, not here."""
    return msgid


# kind → the English msgid its parameters fill; the catalogue gives the reader's language.
MESSAGES = {
    "action_needed": N_("“%(title)s” (%(unit)s) is %(state)s; please handle it."),
    "state_changed": N_("Your submission “%(title)s” is now: %(state)s."),
    "reminder": N_("Overdue since %(due)s: “%(title)s” (%(unit)s) is waiting for you."),
    "obligation_reminder": N_("%(month)s: “%(obligation)s” is still missing for your unit; it is due by "
                              "%(deadline)s."),
    "record_correction": N_("%(unit)s asks to correct the service record of %(name)s at “%(activity)s” "
                            "(%(held_on)s); please check it: %(reason)s"),
    "record_amended": N_("The service record of %(name)s at “%(activity)s” was corrected (hours: %(hours)s): "
                         "%(reason)s"),
    "record_correction_refused": N_("The request to correct the service record of %(name)s at “%(activity)s” "
                                    "was not granted: %(reason)s"),
    "circular_reminder": N_("Not yet opened: the circular “%(title)s” (%(number)s) of %(office)s. Please open it to "
                            "confirm receipt."),
}


def both_languages(text):
    """A definition's {zh, en} text as plain data for ``params``."""
    return {"zh": text.zh, "en": text.get("en")}


def submission_params(submission, workflow=None):
    params = {"title": submission.title or None, "form": both_languages(form_spec_of(submission).schema.title),
              "unit": submission.unit.name}
    if workflow is not None:
        params["state"] = both_languages(workflow.state(submission.state).label)
    return params


def _text(kind, params, lang):
    values = {key: (value.get(lang) or value.get("zh")) if isinstance(value, dict) else value
              for key, value in params.items()}
    values["title"] = values.get("title") or values.get("form") or ""
    with force_locale("en" if lang == "en" else "zh_CN"):
        return _(MESSAGES[kind], **values)


def render(notification, lang):
    """The notification's message in ``lang`` ("zh" or "en"); old rows and unknown kinds as stored."""
    if notification.params is None or notification.kind not in MESSAGES:
        return notification.text
    try:
        return _text(notification.kind, notification.params, lang)
    except (KeyError, TypeError, ValueError):
        return notification.text


def notification(user_id, kind, params, **columns):
    """A new Notification of ``kind`` (a key of MESSAGES) for ``params``, its ``text`` in Chinese."""
    return Notification(user_id=user_id, kind=kind, params=params, text=_text(kind, params, "zh"), **columns)


def _row(user_id, submission, kind, params, for_state=None):
    """A notification as a row for one INSERT of many (``notify``)."""
    return {"user_id": user_id, "submission_id": submission.id, "kind": kind, "params": params,
            "for_state": for_state, "text": _text(kind, params, "zh"), "created_at": utcnow()}


def _add(user_id, submission, kind, params, for_state=None):
    db.session.add(notification(user_id, kind, params, submission_id=submission.id, for_state=for_state))


@effect("notify")
def notify(context):
    submission = context.submission
    params = submission_params(submission, context.workflow)
    rows = [_row(person_id, submission, "action_needed", params, for_state=submission.state)
            for person_id in responsible_ids(submission, next_roles(context.workflow, submission))
            if person_id != context.actor.id]
    if submission.created_by_id != context.actor.id:
        rows.append(_row(submission.created_by_id, submission, "state_changed", params))
    if rows:
        # One statement for everyone told: a transition's cost does not grow with the people it reaches.
        # A plain INSERT on the table: the ORM's bulk path (and the autoflush before it) cost more than it.
        db.session.execute(insert(Notification.__table__), rows)


@job_kind("overdue_reminders", retries=1, timeout=600)
def send_overdue_reminders(ctx, now=None):
    """Remind the responsible people of every overdue item, once a day each."""
    from ..engine.perform import workflow_of
    now = utcnow()
    since = now - timedelta(days=1)
    overdue = db.session.execute(select(Submission).where(Submission.due_at.is_not(None),
                                                          Submission.due_at < now)).scalars().all()
    sent = 0
    for index, submission in enumerate(overdue):
        workflow = workflow_of(submission)
        if workflow is None or workflow.state(submission.state).final:
            continue
        recent = set(db.session.execute(select(Notification.user_id).where(
            Notification.submission_id == submission.id, Notification.kind == "reminder",
            Notification.created_at > since)).scalars())
        params = dict(submission_params(submission), due=submission.due_at.strftime("%Y-%m-%d"))
        for person_id in responsible_ids(submission, next_roles(workflow, submission)):
            if person_id in recent:
                continue
            _add(person_id, submission, "reminder", params, for_state=submission.state)
            sent += 1
        if index % 200 == 0:
            ctx.progress(100 * index / max(1, len(overdue)))
    db.session.commit()
    return sent
