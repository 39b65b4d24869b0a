"""The compliance table for an office: its units × months, rolled up by district.

Shared by the page, the XLSX export and the charts. Every unit query is restricted by the viewer's
grant paths (reviewer or office roles): a district office sees only its own units.
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import select

from ...access import grant_paths
from ...extensions import db
from ...models import Role, Unit, UnitKind
from ..periods import Month, months_of
from . import rules as rules_module
from .evaluation import STATUSES, evaluate_grid, gc_paused, evaluate_months, participating_units, source_ids

OFFICE_ROLES = (Role.REVIEWER, Role.OFFICE)
PAGE_SIZE = 50


def office_paths(user):
    return grant_paths(user, *OFFICE_ROLES)


@dataclass
class Filters:
    year: int
    month: int | None = None
    district: int | None = None
    status: str | None = None
    kind: str | None = None
    page: int = 1


@dataclass
class Rollup:
    district: object
    units: int = 0
    cells: dict = field(default_factory=dict)   # obligation key → {status: n}

    def share(self, key):
        counts = self.cells.get(key, {})
        total = sum(counts.values())
        return round(100 * counts.get("met", 0) / total, 1) if total else None


@dataclass
class Table:
    rules: object
    filters: Filters
    months: list
    districts: list
    rows: list          # (unit row, district, {(obligation, period): Cell}) of this page
    total: int          # units after the filters
    rollups: list
    pages: int


def districts_for(paths):
    """The district offices (depth 1) the viewer sees all or part of, by code."""
    offices = db.session.execute(select(Unit).where(Unit.depth == 1, Unit.kind == UnitKind.OFFICE.value,
                                                    Unit.active.is_(True)).order_by(Unit.code)).scalars().all()
    return [d for d in offices if any(d.path.startswith(p) or p.startswith(d.path) for p in paths)]


def district_of(path, by_id):
    parts = [int(p) for p in path.strip("/").split("/") if p]
    return by_id.get(parts[1]) if len(parts) > 1 else None


def build(user, filters, paginate=True, now=None):
    with gc_paused():
        return _build(user, filters, paginate, now)


def _build(user, filters, paginate, now):
    paths = office_paths(user)
    rules = rules_module.current()
    districts = districts_for(paths)
    by_id = {d.id: d for d in districts}
    scope = Unit.in_any_subtree(paths)
    if filters.district is not None:
        chosen = by_id.get(filters.district)
        # Another district's id is simply outside the viewer's units: nothing, not an error page.
        scope = db.and_(scope, Unit.in_subtree(chosen.path)) if chosen else db.false()
    if filters.kind:
        scope = db.and_(scope, Unit.kind == filters.kind)
    months = [Month(filters.year, filters.month)] if filters.month else months_of(filters.year)
    units = db.session.execute(select(Unit.id, Unit.kind, Unit.name, Unit.code, Unit.path).where(
        Unit.active.is_(True), Unit.kind.in_(rules.schema.unit_kinds), scope).order_by(Unit.path)).all()
    grid = evaluate_grid(months, [(u.id, u.kind) for u in units], now=now, rules=rules, with_sources=False)
    per_unit = grid.cells
    owed = {kind: _count_keys(cells) for kind, cells in grid.blank.items()}
    rollups = _rollups(grid, owed, units, by_id)
    if filters.status == "missing":
        units = [u for u in units if sum(owed[u.kind].values()) > sum(
            1 for _, c in grid.filled.get(u.id, ()) if c.status != "missing")]
    elif filters.status:
        units = [u for u in units if any(c.status == filters.status for _, c in grid.filled.get(u.id, ()))]
    total = len(units)
    pages = max(1, -(-total // PAGE_SIZE))
    if paginate:
        start = (min(filters.page, pages) - 1) * PAGE_SIZE
        units = units[start:start + PAGE_SIZE]
    rows = [(u, district_of(u.path, by_id), per_unit.get(u.id, {})) for u in units]
    if paginate and units:
        found = source_ids(rules, months, [u.id for u in units])
        forms = {o.key: o.form for o in rules.obligations}
        for index, (unit, district, cells) in enumerate(rows):
            mine = dict(cells)      # the grid may be shared with other requests: change a copy
            for (key, period), cell in cells.items():
                ids = found.get((unit.id, forms[key], period))
                if ids:
                    mine[(key, period)] = _with_sources(cell, ids)
            rows[index] = (unit, district, mine)
    ordered = [rollups[d.id] for d in districts if d.id in rollups] + ([rollups[0]] if 0 in rollups else [])
    return Table(rules=rules, filters=filters, months=months, districts=districts, rows=rows, total=total,
                 rollups=ordered, pages=pages)


_rollup_lock = threading.Lock()
_rollups_kept = OrderedDict()


def _rollups(grid, owed, units, by_id):
    """Per district: units, and per obligation the cells in each status (kept while the grid is the same)."""
    key = (id(grid), tuple((u.id, u.path) for u in units))
    with _rollup_lock:
        kept = _rollups_kept.get(key)
    if kept is not None and kept[0] is grid:
        return kept[1]
    rollups = {}
    for unit in units:
        district = district_of(unit.path, by_id)
        rollup = rollups.setdefault(district.id if district else 0, Rollup(district=district))
        rollup.units += 1
        # Every owed cell starts missing; the few cells something counts towards move it to their status.
        for name, n in owed[unit.kind].items():
            counts = rollup.cells.get(name)
            if counts is None:
                counts = rollup.cells[name] = dict.fromkeys(STATUSES, 0)
            counts["missing"] += n
        for (name, _), cell in grid.filled.get(unit.id, ()):
            counts = rollup.cells[name]
            counts["missing"] -= 1
            counts[cell.status] += 1
    with _rollup_lock:
        _rollups_kept[key] = (grid, rollups)
        _rollups_kept.move_to_end(key)
        while len(_rollups_kept) > 16:
            _rollups_kept.popitem(last=False)
    return rollups


def _count_keys(cells):
    out = {}
    for key, _period in cells:
        out[key] = out.get(key, 0) + 1
    return out


def _with_sources(cell, ids):
    return cell._replace(sources=ids)


def visible_cells(user, month, roles, now=None):
    """One month's cells for the units where ``user`` holds any of ``roles`` (the API)."""
    paths = grant_paths(user, *roles)
    rules = rules_module.current()
    if not paths:
        return rules, [], {}
    scope = Unit.in_any_subtree(paths)
    units = db.session.execute(select(Unit.id, Unit.kind, Unit.name).where(
        Unit.active.is_(True), Unit.kind.in_(rules.schema.unit_kinds), scope).order_by(Unit.path)).all()
    cells = evaluate_months([month], [(u.id, u.kind) for u in units], now=now, rules=rules,
                            unit_ids=[u.id for u in units])
    return rules, units, cells


__all__ = ["Filters", "PAGE_SIZE", "build", "office_paths", "participating_units", "visible_cells"]
