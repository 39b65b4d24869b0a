"""The grouped query behind the obligations: every unit's counts of a range of months at once."""
from datetime import datetime, time
from functools import lru_cache

from sqlalchemy import and_, case, func, literal, or_, select

from ...extensions import db
from ...models import AuditEvent, Submission, Unit
from ..periods import due_for


def cutoff(deadline):
    return datetime.combine(deadline, time(23, 59, 59))


@lru_cache(maxsize=1024)
def _due(month, working_days):
    # Walking the calendar is slow next to everything else here; a month's deadline never changes.
    return due_for(month, working_days)


def _deadline(month, obligation):
    return _due(month, obligation.due_working_day)


def grouped_counts(rules, months, unit_where=None, unit_ids=None):
    """{(unit_id, form_key, period): (met, on_time, pending)} for ``months``, one grouped query.

    ``unit_where`` is a condition on Unit (joined), ``unit_ids`` a list of ids; either narrows the units.
    When a submission reached a met state is a correlated lookup in ``ix_audit_event_reached``.
    """
    s, e = Submission, AuditEvent
    periods = [str(m) for m in months]
    obligations = rules.obligations
    met = or_(*[and_(s.form_key == o.form, s.state.in_(o.met)) for o in obligations])
    waiting = [and_(s.form_key == o.form, s.state.in_(o.pending)) for o in obligations if o.pending]
    pending = or_(*waiting) if waiting else literal(False)
    reached_into = or_(*[and_(s.form_key == o.form, e.to_state.in_(o.met)) for o in obligations])
    reached = (select(func.min(e.at)).where(e.submission_id == s.id, reached_into)
               .correlate(s).scalar_subquery())
    deadline = case(*[(and_(s.form_key == o.form, s.period == str(m)), literal(cutoff(_deadline(m, o))))
                      for o in obligations for m in months], else_=None)
    on_time = and_(met, func.coalesce(reached, s.state_since) <= deadline)
    query = (select(s.unit_id, s.form_key, s.period, func.sum(case((met, 1), else_=0)),
                    func.sum(case((on_time, 1), else_=0)), func.sum(case((pending, 1), else_=0)))
             .where(s.form_key.in_([o.form for o in obligations]), s.period.in_(periods), or_(met, pending))
             .group_by(s.unit_id, s.form_key, s.period))
    if unit_where is not None:
        query = query.join(Unit, Unit.id == s.unit_id).where(unit_where)
    if unit_ids is not None:
        query = query.where(s.unit_id.in_(list(unit_ids)))
    return {(u, f, p): (int(m or 0), int(o or 0), int(w or 0))
            for u, f, p, m, o, w in db.session.execute(query)}
