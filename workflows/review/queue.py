"""The reviewer's queue: a query, not a table of copies.

What the user's roles may act on now, in the user's units, oldest first
(by when the submission entered its state), filtered, paged by keyset. Each
(workflow version, state) the user acts in is one index range scan on
``ix_submission_queue`` with its own LIMIT; the database merges the scans in
one statement (``UNION ALL``), so a deep page costs what the first one does,
and the page's items arrive with their units.
"""
import hashlib
import heapq
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import g
from sqlalchemy import DateTime, Integer, bindparam, exists, func, select, tuple_, union_all
from sqlalchemy.orm import defer, joinedload

from ..access import grant_paths
from ..engine.versions import released
from ..extensions import db
from ..models import AuditEvent, Role, Submission, Unit, Vote
from ..models.units import utcnow

QUEUE_ROLES = (Role.REVIEWER, Role.CERTIFIER, Role.OFFICE, Role.ADMIN)
PAGE = 20


@dataclass(frozen=True)
class Filters:
    unit_id: int | None = None
    campaign: str | None = None
    period: str | None = None
    state: str | None = None
    overdue: bool = False

    @classmethod
    def from_args(cls, args):
        return cls(unit_id=args.get("unit", type=int), campaign=args.get("campaign") or None,
                   period=args.get("month") or None, state=args.get("state") or None,
                   overdue=args.get("overdue") == "1")


@dataclass(frozen=True)
class Lane:
    """One (workflow version, state) the user acts in, with the subtrees where they may."""
    workflow_version_id: int
    state: str
    paths: tuple
    not_self: bool
    voting: bool


@dataclass
class Page:
    items: list
    next_cursor: str | None
    counts: dict | None = None


_LANES = {}  # (roles' paths, released versions) -> lanes: both are values, so an entry never goes stale


def lanes(user):
    """Every (workflow version, state) where one of ``user``'s roles has a transition.

    Computed once per process for each set of grants and released versions: published versions
    never change, and a new release changes the key."""
    held = {role.value: tuple(grant_paths(user, role)) for role in QUEUE_ROLES}
    held = tuple(sorted((role, paths) for role, paths in held.items() if paths))
    versions = released() if held else []
    key = (held, tuple(version.workflow_version_id for version in versions))
    found = _LANES.get(key)
    if found is None:
        if len(_LANES) > 4096:  # bounded: grants differ per person
            _LANES.clear()
        found = _LANES[key] = _build_lanes(dict(held), versions)
    return found


def _build_lanes(held, versions):
    out = {}
    for version in versions:
        for transition in version.workflow.transitions:
            role = transition.model.by
            if role not in held or transition.model.internal:  # nothing to do by hand
                continue
            for state in transition.model.from_:
                lane_key = (version.workflow_version_id, state)
                previous = out.get(lane_key)
                paths = tuple(sorted(set(previous.paths) | set(held[role]))) if previous else held[role]
                approval = transition.model.approval
                out[lane_key] = Lane(version.workflow_version_id, state, paths,
                                     not_self=transition.model.not_self and (previous.not_self if previous else True),
                                     voting=bool(approval and approval.mode != "any") or bool(previous and previous.voting))
    return tuple(out.values())


def lanes_for(user, filters):
    """The lanes a page under ``filters`` reads: the state filter keeps one state's."""
    return tuple(lane for lane in lanes(user) if not filters.state or lane.state == filters.state)


def lanes_digest(all_lanes):
    """A short fingerprint of ``all_lanes``, the same in every process (``hash`` of a str is not)."""
    return hashlib.sha256(repr(all_lanes).encode()).hexdigest()[:16]


def stamp():
    """The newest audit event's id: it moves whenever anything in a queue moves."""
    return db.session.execute(select(func.max(AuditEvent.id))).scalar() or 0


# What changes from request to request is bound, not built in: the statements below are built once
# per shape (lanes, filters, page size) and cached, so a request only binds its values.
ME = bindparam("me", type_=Integer())
NOW = bindparam("now", type_=DateTime())
AFTER = tuple_(bindparam("after_since", type_=DateTime()), bindparam("after_id", type_=Integer()))


def bind_values(user, after=None):
    """The values the cached statements bind: who asks, the time, and the cursor's position."""
    since, ident = after or (None, None)
    return {"me": user.id, "now": utcnow(), "after_since": since, "after_id": ident}


def _in_subtrees(paths, sqlite):
    if not sqlite:
        return Unit.in_any_subtree(paths)
    # With statistics, SQLite would start from ix_unit_path and sort; "path || ''"
    # keeps it walking ix_submission_queue in order, which is what paging needs.
    path = Unit.path.concat("")
    return db.or_(*[db.and_(path >= low, path < high) for low, high in map(Unit.subtree_range, paths)])


def chosen_unit(filters):
    """The unit the filter names, read once per request (None: no filter, or no such unit)."""
    if not filters.unit_id:
        return None
    cache = g.setdefault("_queue_units", {})
    if filters.unit_id not in cache:
        cache[filters.unit_id] = db.session.get(Unit, filters.unit_id)
    return cache[filters.unit_id]


def _shape(filters):
    """What, besides the lanes, decides a statement's text: the filters, the chosen unit's path, the dialect."""
    chosen = chosen_unit(filters)
    return filters, chosen.path if chosen else None, db.engine.dialect.name == "sqlite"


def _lane_query(lane, filters, chosen_path, sqlite, *columns):
    stmt = select(*(columns or (Submission.id, Submission.state_since))).where(
        Submission.workflow_version_id == lane.workflow_version_id, Submission.state == lane.state)
    # A grant at the top of the tree covers every unit: no join needed.
    everywhere = any(path.count("/") == 2 for path in lane.paths)
    if filters.unit_id or not everywhere:
        stmt = stmt.join(Unit, Unit.id == Submission.unit_id)
    if not everywhere:
        stmt = stmt.where(_in_subtrees(lane.paths, sqlite))
    if lane.not_self:
        stmt = stmt.where(Submission.created_by_id != ME)
    if lane.voting:
        stmt = stmt.where(~exists().where(Vote.submission_id == Submission.id,
                                          Vote.round == Submission.row_version, Vote.voter_id == ME))
    if filters.unit_id:
        stmt = stmt.where(Unit.in_subtree(chosen_path) if chosen_path else Unit.id == -1)
    if filters.campaign:
        stmt = stmt.where(Submission.campaign == filters.campaign)
    if filters.period:
        stmt = stmt.where(Submission.period == filters.period)
    if filters.overdue:
        stmt = stmt.where(Submission.due_at < NOW)
    return stmt


def encode_cursor(state_since, submission_id):
    return f"{state_since.isoformat(timespec='microseconds')}_{submission_id}"


def decode_cursor(cursor):
    try:
        when, _, ident = (cursor or "").rpartition("_")
        return datetime.fromisoformat(when), int(ident)
    except ValueError:
        return None


def _merged(all_lanes, shape, after, limit):
    """The next ``limit`` (id, state_since) after the cursor over every lane, as one statement.

    Each lane stays its own index range scan with its own LIMIT (a subquery); the database merges
    them, so the page costs one round trip however many lanes there are."""
    parts = []
    for lane in all_lanes:
        stmt = _lane_query(lane, *shape)
        if after:
            stmt = stmt.where(tuple_(Submission.state_since, Submission.id) > AFTER)
        part = stmt.order_by(Submission.state_since, Submission.id).limit(limit).subquery()
        parts.append(select(part.c.id, part.c.state_since))
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("queue")


@lru_cache(maxsize=1024)
def _page_statement(all_lanes, shape, after, limit):
    merged = _merged(all_lanes, shape, after, limit)
    return (select(Submission).join(merged, merged.c.id == Submission.id)
            .options(defer(Submission.answers), joinedload(Submission.unit))
            .order_by(merged.c.state_since, merged.c.id).limit(limit))


@lru_cache(maxsize=1024)
def _next_statement(all_lanes, shape):
    merged = _merged(all_lanes, shape, True, 1)
    return select(merged.c.id, merged.c.state_since).order_by(merged.c.state_since, merged.c.id).limit(1)


def page(user, filters=Filters(), cursor=None, limit=PAGE, with_counts=True):
    """A page of the queue: items (their units loaded with them) and the next cursor, in one statement.

    With ``with_counts``, the first page also counts the filter bar (one statement); walking deeper
    never counts again (the pages keep the first page's counts; see pages.index)."""
    all_lanes = lanes_for(user, filters)
    after = decode_cursor(cursor) if cursor else None
    items = []
    if all_lanes:
        stmt = _page_statement(all_lanes, _shape(filters), after is not None, limit + 1)
        items = db.session.execute(stmt, bind_values(user, after)).scalars().all()
    chosen = items[:limit]
    next_cursor = encode_cursor(chosen[-1].state_since, chosen[-1].id) if len(items) > limit else None
    result = Page(items=chosen, next_cursor=next_cursor)
    if with_counts and after is None:
        result.counts = counts(user, all_lanes, filters)
    return result


def next_after(user, filters, cursor):
    """The id of the item after ``cursor`` in the queue's order under ``filters``, or None.

    One statement: the review page's "next" link.
    """
    after = decode_cursor(cursor)
    if after is None:
        return None
    all_lanes = lanes_for(user, filters)
    if not all_lanes:
        return None
    return db.session.execute(_next_statement(all_lanes, _shape(filters)), bind_values(user, after)).first()


@lru_cache(maxsize=1024)
def _counts_statement(all_lanes, shape):
    columns = (Submission.state, Submission.campaign, Submission.period, func.count().label("n"),
               func.sum(db.case((Submission.due_at < NOW, 1), else_=0)).label("late"))
    parts = [_lane_query(lane, *shape, *columns).group_by(Submission.state, Submission.campaign, Submission.period)
             for lane in all_lanes]
    return parts[0] if len(parts) == 1 else union_all(*parts)


def counts(user, all_lanes, filters):
    """How many items each filter value would show, for the filter bar: one statement over every lane."""
    totals = {"all": 0, "overdue": 0, "state": {}, "campaign": {}, "period": {}}
    if not all_lanes:
        return totals
    # Counted over every state, campaign and month: only the unit filter narrows what is counted.
    unit_only = Filters(unit_id=filters.unit_id)
    shape = _shape(unit_only)
    rows = db.session.execute(_counts_statement(tuple(all_lanes), shape), bind_values(user))
    for state, campaign, period, count, overdue in rows:
        totals["all"] += count
        totals["overdue"] += overdue or 0
        totals["state"][state] = totals["state"].get(state, 0) + count
        if campaign:
            totals["campaign"][campaign] = totals["campaign"].get(campaign, 0) + count
        if period:
            totals["period"][period] = totals["period"].get(period, 0) + count
    return totals


def raw_sql_first_page(connection, user_id, lanes_, limit=PAGE):
    """The same first page written by hand in SQL, for the benchmark's ratio."""
    rows = []
    for lane in lanes_:
        subtree = " OR ".join(f"(u.path >= :lo{i} AND u.path < :hi{i})" for i in range(len(lane.paths)))
        params = {"wf": lane.workflow_version_id, "state": lane.state, "me": user_id, "limit": limit + 1}
        for i, path in enumerate(lane.paths):
            params[f"lo{i}"], params[f"hi{i}"] = Unit.subtree_range(path)
        sql = (f"SELECT s.id, s.state_since FROM submission s JOIN unit u ON u.id = s.unit_id "
               f"WHERE s.workflow_version_id = :wf AND s.state = :state AND ({subtree})"
               + (" AND s.created_by_id != :me" if lane.not_self else "")
               + " ORDER BY s.state_since, s.id LIMIT :limit")
        rows.append(connection.execute(db.text(sql), params).all())
    merged = list(heapq.merge(*rows, key=lambda r: (r[1], r[0])))[:limit]
    ids = [r[0] for r in merged]
    if ids:
        connection.execute(db.text("SELECT * FROM submission WHERE id IN (" + ",".join(map(str, ids)) + ")")).all()
    return ids

