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

import gc
import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import and_, or_, select

from ...extensions import db
from ...models import Submission, Unit
from ...models.units import utcnow
from ..periods import Month
from . import rules as rules_module, tallies
from .evaluation_sql import _deadline, cutoff, grouped_counts  # noqa: F401 (cutoff: part of the API)

STATUSES = ("met", "late", "pending", "missing")
# Up to this many units are counted by a query of their own; more read the kept tallies.
DIRECT = 50
GRIDS_KEPT = 8
_grid_lock = threading.Lock()
_grids = OrderedDict()


class Cell(NamedTuple):
    """One unit's standing on one obligation in one month (a tuple: the table makes tens of thousands)."""
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


def source_ids(rules, months, unit_ids=None):
    """{(unit_id, form_key, period): (met ids…, pending ids…)} for a page's worth of units (None: every unit)."""
    s = Submission
    obligations = rules.obligations
    met_states = {o.form: set(o.met) for o in obligations}
    counted = or_(*[and_(s.form_key == o.form, s.state.in_(o.met + o.pending)) for o in obligations])
    query = select(s.id, s.unit_id, s.form_key, s.period, s.state).where(
        s.form_key.in_([o.form for o in obligations]), s.period.in_([str(m) for m in months]), counted)
    if unit_ids is not None:
        query = query.where(s.unit_id.in_(list(unit_ids)))
    rows = db.session.execute(query.order_by(s.id))
    out = {}
    for sid, unit_id, form, period, state in rows:
        met, waiting = out.setdefault((unit_id, form, period), ([], []))
        (met if state in met_states[form] else waiting).append(sid)
    return {key: tuple(met + waiting) for key, (met, waiting) in out.items()}


def status_of(needed, met, on_time, pending):
    if on_time >= needed:
        return "met"
    if met >= needed:
        return "late"
    return "pending" if pending else "missing"


def cell_of(rules, obligation, month, needed, counts, sources, now):
    met, on_time, pending = counts or (0, 0, 0)
    deadline = _deadline(month, obligation)
    return Cell(status_of(needed, met, on_time, pending), met, needed, deadline, sources or (), on_time, pending,
                now <= cutoff(deadline), rules.version, rules.sha256)


def participating_units(rules, unit_ids=None, unit_where=None):
    """(id, kind) of the active units whose kind takes part, ordered by path."""
    query = select(Unit.id, Unit.kind).where(Unit.active.is_(True), Unit.kind.in_(rules.schema.unit_kinds))
    if unit_ids is not None:
        query = query.where(Unit.id.in_(list(unit_ids)))
    if unit_where is not None:
        query = query.where(unit_where)
    return db.session.execute(query.order_by(Unit.path)).all()


class Grid(NamedTuple):
    cells: dict        # unit_id → {(obligation_key, period): Cell}
    filled: dict       # unit_id → [((obligation_key, period), Cell)] of the cells something counts towards
    blank: dict        # unit kind → {(obligation_key, period): Cell}: every cell a unit of that kind owes, empty


@contextmanager
def gc_paused():
    """Hold the cyclic garbage collector while tens of thousands of small tuples are built.

    They hold no cycles, but their number alone sets off full collections of everything the process
    holds, which doubled the city's table time; reference counting frees them as usual.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def evaluate_grid(months, units, now=None, rules=None, unit_ids=None, with_sources=True):
    """The cells of ``units`` ((id, kind) pairs) over ``months``, as a Grid.

    ``unit_ids``, when the caller knows the units are few, counts just theirs with a query of its own.
    Each unit starts as a copy of its kind's blank cells (one shared "missing" tuple per obligation
    and month); only the cells something counts towards are built one by one.
    """
    rules = rules or rules_module.current()
    now = now or utcnow()
    months = list(months)
    if unit_ids is not None and len(unit_ids) <= DIRECT:
        counts = grouped_counts(rules, months, unit_ids=unit_ids)
    else:
        # Many units: everyone's tallies, kept up to date from the audit trail (tallies.py).
        counts = tallies.counts(rules, months)
    # Without a list of units the caller wants them all: no long IN list, the grid drops the others.
    sources = source_ids(rules, months, unit_ids) if with_sources and units else {}
    version, sha = rules.version, rules.sha256
    by_form = {o.form: o for o in rules.obligations}
    periods = {str(m): m for m in months}
    timing = {}
    for obligation in rules.obligations:
        for period, month in periods.items():
            deadline = _deadline(month, obligation)
            timing[(obligation.key, period)] = (deadline, now <= cutoff(deadline))
    # The same units over the same kept tallies give the same grid: the city's table is built once per
    # change anywhere in the trail, not once per request. (Cells are tuples; callers copy a unit's dict
    # before changing it.)
    cache_key = None
    if not sources and counts is tallies.current_object(rules, months):
        cache_key = (id(counts), sha, tuple(periods), tuple(sorted(timing.items())), tuple(units))
        with _grid_lock:
            cached = _grids.get(cache_key)
        if cached is not None and cached[0] is counts:
            return cached[1]
    blank = {}
    kind_of = {}
    for unit_id, kind in units:
        kind_of[unit_id] = kind
        if kind not in blank:
            cells = {}
            for obligation in rules.obligations:
                needed = rules.needed(obligation, kind)
                if needed:
                    for period in periods:
                        deadline, is_open = timing[(obligation.key, period)]
                        cells[(obligation.key, period)] = Cell("missing", 0, needed, deadline, (), 0, 0, is_open,
                                                               version, sha)
            blank[kind] = cells
    grid = {unit_id: blank[kind].copy() for unit_id, kind in kind_of.items()}
    filled = {}
    for key in (counts.keys() | sources.keys()) if sources else counts.keys():
        unit_id, form, period = key
        kind = kind_of.get(unit_id)
        if kind is None or period not in periods:
            continue
        obligation = by_form[form]
        slot = (obligation.key, period)
        empty = blank[kind].get(slot)
        if empty is None:
            continue            # not owed by this kind
        met, on_time, pending = counts.get(key) or (0, 0, 0)
        needed = empty.needed
        cell = Cell(status_of(needed, met, on_time, pending), met, needed, empty.deadline, sources.get(key, ()),
                    on_time, pending, empty.open, version, sha)
        grid[unit_id][slot] = cell
        filled.setdefault(unit_id, []).append((slot, cell))
    result = Grid(grid, filled, blank)
    if cache_key is not None:
        with _grid_lock:
            _grids[cache_key] = (counts, result)
            _grids.move_to_end(cache_key)
            while len(_grids) > GRIDS_KEPT:
                _grids.popitem(last=False)
    return result


def evaluate_months(months, units, **options):
    """{(unit_id, obligation_key, "YYYY-MM"): Cell}: ``evaluate_grid`` flattened."""
    return {(unit_id, key, period): cell
            for unit_id, cells in evaluate_grid(months, units, **options).cells.items()
            for (key, period), cell in cells.items()}


def evaluate(month, unit_ids=None, now=None):
    """{(unit_id, obligation_key): Cell} for one month (a Month or "YYYY-MM"); all units when ``unit_ids`` is None."""
    if isinstance(month, str):
        month = Month.parse(month)
    rules = rules_module.current()
    units = participating_units(rules, unit_ids=unit_ids)
    cells = evaluate_months([month], units, now=now, rules=rules,
                            unit_ids=[u for u, _ in units] if unit_ids is not None else None)
    return {(unit_id, key): cell for (unit_id, key, _), cell in cells.items()}


def evaluate_many(months, unit_ids=None, now=None):
    """{(unit_id, obligation_key, "YYYY-MM"): Cell} for several months in one pass (the scores' year)."""
    rules = rules_module.current()
    units = participating_units(rules, unit_ids=unit_ids)
    return evaluate_months(list(months), units, now=now, rules=rules,
                           unit_ids=[u for u, _ in units] if unit_ids is not None else None)
