"""Notifications: the ``notify`` effect tells the next actors; overdue items get reminders."""
from datetime import timedelta

from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from ..engine.effects import effect
from ..extensions import db
from ..jobs import job_kind
from ..models import Notification, RoleGrant, Submission, Unit, User
from ..models.units import utcnow


def responsible(submission, roles):
    """Active people holding any of ``roles`` at the submission's unit or above it."""
    if not roles:
        return []
    return db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).join(Unit, Unit.id == RoleGrant.unit_id)
        .where(RoleGrant.role.in_(roles), RoleGrant.unit_id.in_(submission.unit.ancestor_ids()),
               User.active.is_(True), Unit.active.is_(True)).distinct()).scalars().all()


def next_roles(workflow, submission):
    roles = {t.model.by for t in workflow.available(submission.state)}
    return sorted(r for r in roles if r != "owner")


@effect("notify")
def notify(context):
    submission = context.submission
    title = submission.title or submission.definition.spec.schema.title.zh
    state = context.workflow.state(submission.state).label.zh
    for person in responsible(submission, next_roles(context.workflow, submission)):
        if person.id == context.actor.id:
            continue
        db.session.add(Notification(user_id=person.id, submission_id=submission.id, kind="action_needed",
                                    text=f"“{title}”（{submission.unit.name}）{state}，请处理。"))
    if submission.created_by_id != context.actor.id:
        db.session.add(Notification(user_id=submission.created_by_id, submission_id=submission.id,
                                    kind="state_changed", text=f"您的填报“{title}”现为：{state}。"))


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
        with force_locale("zh_CN"):
            text = _("Overdue since %(due)s: “%(title)s” (%(unit)s) is waiting for you.",
                     due=submission.due_at.strftime("%Y-%m-%d"), title=submission.title or submission.definition.spec.schema.title.zh,
                     unit=submission.unit.name)
        for person in responsible(submission, next_roles(workflow, submission)):
            if person.id in recent:
                continue
            db.session.add(Notification(user_id=person.id, submission_id=submission.id, kind="reminder", text=text))
            sent += 1
        if index % 200 == 0:
            ctx.progress(100 * index / max(1, len(overdue)))
    db.session.commit()
    return sent
