"""Who met which monthly obligation: a few grouped queries for all units and months at once.

``evaluate(month, unit_ids=None, now=None)`` → ``{(unit_id, obligation_key): Cell}`` — the public
shape other parts of the assessment build on. A cell exists only where the rules ask something of the
unit's kind (``needed`` ≥ 1). Its ``status``:

- ``met``: at least ``needed`` submissions of the month reached a met state by the deadline;
- ``late``: enough reached a met state, but some only after the deadline;
- ``pending``: not enough met yet, and at least one is waiting for review (a pending state);
- ``missing``: otherwise.

Before the deadline has passed a cell that is not met is still ``pending`` or ``missing`` as above,
with ``open`` true: the page shows it as “未到截止” rather than a failure. Which month a submission
belongs to is its ``period`` summary column (an activity report's ``held_on``, a nomination's
``month``); when it reached a met state is the first audit event moving it into one (its
``state_since`` if it has no events, as bulk-imported rows may not). Deadlines end at 23:59:59 of
the N-th working day of the next month, as the engine's working-day deadlines do.
"""
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import and_, case, func, literal, or_, select

from ...extensions import db
from ...models import AuditEvent, Submission, Unit
from ...models.units import utcnow
from ..periods import Month, due_for
from . import rules as rules_module

STATUSES = ("met", "late", "pending", "missing")


@dataclass(frozen=True, slots=True)
class Cell:
    status: str
    count: int            # submissions in a met state, on time or not
    needed: int
    deadline: object      # date: the last day
    sources: tuple        # submission ids: the met ones, then the pending ones
    on_time: int = 0
    pending: int = 0
    open: bool = False    # the deadline has not passed yet
    rule_version: int = 0
    rule_sha256: str = ""


def cutoff(deadline):
    return datetime.combine(deadline, time(23, 59, 59))


def _deadline(month, obligation):
    return due_for(month, obligation.due_working_day)


def grouped_counts(rules, months, unit_where=None, unit_ids=None):
    """{(unit_id, form_key, period): (met, on_time, pending)} for ``months``, one grouped query.

    ``unit_where`` is a condition on Unit (joined), ``unit_ids`` a list of ids; either narrows the units.
    """
    s, e = Submission, AuditEvent
    periods = [str(m) for m in months]
    obligations = rules.obligations
    met = or_(*[and_(s.form_key == o.form, s.state.in_(o.met)) for o in obligations])
    waiting = [and_(s.form_key == o.form, s.state.in_(o.pending)) for o in obligations if o.pending]
    pending = or_(*waiting) if waiting else literal(False)
    reached_into = or_(*[and_(s.form_key == o.form, e.to_state.in_(o.met)) for o in obligations])
    deadline = case(*[(and_(s.form_key == o.form, s.period == str(m)), literal(cutoff(_deadline(m, o))))
                      for o in obligations for m in months], else_=None)
    inner = (select(s.unit_id.label("unit_id"), s.form_key.label("form_key"), s.period.label("period"),
                    case((met, 1), else_=0).label("is_met"), case((pending, 1), else_=0).label("is_pending"),
                    case((and_(met, func.coalesce(func.min(e.at), s.state_since) <= deadline), 1),
                         else_=0).label("is_on_time"))
             .select_from(s).outerjoin(e, and_(e.submission_id == s.id, reached_into))
             .where(s.form_key.in_([o.form for o in obligations]), s.period.in_(periods), or_(met, pending))
             .group_by(s.id, s.unit_id, s.form_key, s.period, s.state, s.state_since))
    if unit_where is not None:
        inner = inner.join(Unit, Unit.id == s.unit_id).where(unit_where)
    if unit_ids is not None:
        inner = inner.where(s.unit_id.in_(list(unit_ids)))
    inner = inner.subquery()
    query = (select(inner.c.unit_id, inner.c.form_key, inner.c.period, func.sum(inner.c.is_met),
                    func.sum(inner.c.is_on_time), func.sum(inner.c.is_pending))
             .group_by(inner.c.unit_id, inner.c.form_key, inner.c.period))
    return {(u, f, p): (int(m or 0), int(o or 0), int(w or 0))
            for u, f, p, m, o, w in db.session.execute(query)}


def source_ids(rules, months, unit_ids):
    """{(unit_id, form_key, period): (met ids…, pending ids…)} for a page's worth of units."""
    s = Submission
    obligations = rules.obligations
    met_states = {o.form: set(o.met) for o in obligations}
    counted = or_(*[and_(s.form_key == o.form, s.state.in_(o.met + o.pending)) for o in obligations])
    rows = db.session.execute(select(s.id, s.unit_id, s.form_key, s.period, s.state).where(
        s.form_key.in_([o.form for o in obligations]), s.period.in_([str(m) for m in months]), counted,
        s.unit_id.in_(list(unit_ids))).order_by(s.id))
    out = {}
    for sid, unit_id, form, period, state in rows:
        met, waiting = out.setdefault((unit_id, form, period), ([], []))
        (met if state in met_states[form] else waiting).append(sid)
    return {key: tuple(met + waiting) for key, (met, waiting) in out.items()}


def cell_of(rules, obligation, month, needed, counts, sources, now):
    met, on_time, pending = counts or (0, 0, 0)
    deadline = _deadline(month, obligation)
    if on_time >= needed:
        status = "met"
    elif met >= needed:
        status = "late"
    elif pending:
        status = "pending"
    else:
        status = "missing"
    return Cell(status=status, count=met, needed=needed, deadline=deadline, sources=sources or (),
                on_time=on_time, pending=pending, open=now <= cutoff(deadline), rule_version=rules.version,
                rule_sha256=rules.sha256)


def participating_units(rules, unit_ids=None, unit_where=None):
    """(id, kind) of the active units whose kind takes part, ordered by path."""
    query = select(Unit.id, Unit.kind).where(Unit.active.is_(True), Unit.kind.in_(rules.schema.unit_kinds))
    if unit_ids is not None:
        query = query.where(Unit.id.in_(list(unit_ids)))
    if unit_where is not None:
        query = query.where(unit_where)
    return db.session.execute(query.order_by(Unit.path)).all()


def evaluate_months(months, units, now=None, rules=None, unit_where=None, unit_ids=None, with_sources=True):
    """{(unit_id, obligation_key, "YYYY-MM"): Cell} for ``units`` ((id, kind) pairs) over ``months``.

    ``unit_where`` / ``unit_ids`` narrow the grouped query to the same units (a range of paths is
    cheaper than a long IN list); without either it reads every unit's submissions of those months.
    """
    rules = rules or rules_module.current()
    now = now or utcnow()
    months = list(months)
    counts = grouped_counts(rules, months, unit_where=unit_where, unit_ids=unit_ids)
    sources = source_ids(rules, months, [u for u, _ in units]) if with_sources and units else {}
    out = {}
    for obligation in rules.obligations:
        for month in months:
            period = str(month)
            for unit_id, kind in units:
                needed = rules.needed(obligation, kind)
                if not needed:
                    continue
                key = (unit_id, obligation.form, period)
                out[(unit_id, obligation.key, period)] = cell_of(
                    rules, obligation, month, needed, counts.get(key), sources.get(key), now)
    return out


def evaluate(month, unit_ids=None, now=None):
    """{(unit_id, obligation_key): Cell} for one month (a Month or "YYYY-MM"); all units when ``unit_ids`` is None."""
    if isinstance(month, str):
        month = Month.parse(month)
    rules = rules_module.current()
    units = participating_units(rules, unit_ids=unit_ids)
    cells = evaluate_months([month], units, now=now, rules=rules,
                            unit_ids=[u for u, _ in units] if unit_ids is not None else None)
    return {(unit_id, key): cell for (unit_id, key, _), cell in cells.items()}
