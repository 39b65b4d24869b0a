"""A year of exemplar nominations at the notice's scale, for the compliance benchmark.

``seed_scale`` (``scale.py``) builds the units and the activity reports; this adds
``12,000 × size`` nominations (``exemplar_nomination`` pinned to ``exemplar_review``) of ``year`` at the
units that report, the same way: bulk inserts of the rows, their summary columns (``period`` is the
nominated month) and the audit events leading to each state, hash-chained under the app's AUDIT_KEY
as ``engine.audit.append`` chains them. Most are nominated by the district within the month's
deadline, some later, some still waiting. Running it again tops up to the same target.
"""
import random
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select

from .bulk import BATCH, bulk_insert, sync_sequences
from .people import person_name
from .scale import REPORTING_KINDS
from ..assessment.periods import Month
from ..engine import audit
from ..extensions import db
from ..models import AuditEvent, FormVersion, Role, RoleGrant, Submission, Unit, User, WorkflowVersion

NOMINATIONS = 12_000
FORM_KEY = "exemplar_nomination"
WORKFLOW_KEY = "exemplar_review"
STATE_SHARES = {"nominated": 0.30, "selected": 0.08, "not_selected": 0.40, "submitted": 0.07, "returned": 0.03,
                "rejected": 0.05, "draft": 0.07}
PATHS = {"draft": [], "submitted": ["submit"], "returned": ["submit", "return"], "rejected": ["submit", "reject"],
         "nominated": ["submit", "nominate"], "selected": ["submit", "nominate", "select"],
         "not_selected": ["submit", "nominate", "reject"]}
TO = {"submit": "submitted", "return": "returned", "nominate": "nominated", "select": "selected"}
KINDS = ("individual", "collective", "project", "station")
DEEDS = ("长期扎根社区开展志愿服务，组织关爱空巢老人、留守儿童和困难群众活动，累计服务时长逾千小时，"
         "带动身边群众积极参与文明创建，在文明交通劝导、环境卫生整治、垃圾分类宣传等方面发挥了示范作用，"
         "多次受到上级表彰，群众口碑良好，是新时代志愿精神的生动体现。") * 2


def add_nominations(year=2017, size=1.0, seed=17, batch=BATCH):
    """Top up to ``12,000 × size`` nominations of ``year``; returns (added, audit events added)."""
    target = max(0, round(NOMINATIONS * size))
    have = db.session.execute(select(func.count()).select_from(Submission)
                              .where(Submission.form_key == FORM_KEY)).scalar()
    if have >= target:
        return 0, 0
    rng = random.Random(seed + have)
    form = db.session.execute(select(FormVersion).where(FormVersion.key == FORM_KEY, FormVersion.status == "published")
                              .order_by(FormVersion.version.desc()).limit(1)).scalar_one()
    workflow = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.key == WORKFLOW_KEY)
                                  .order_by(WorkflowVersion.version.desc()).limit(1)).scalar_one()
    units = _units()
    users = {name: uid for name, uid in db.session.execute(select(User.username, User.id))}
    office = users.get("city.office")
    key = audit.audit_key()
    next_id = (db.session.execute(select(func.max(Submission.id))).scalar() or 0) + 1
    names, weights = list(STATE_SHARES), list(STATE_SHARES.values())
    added = events_added = 0
    while added < target - have:
        rows, events = [], []
        for _ in range(min(batch, target - have - added)):
            unit_id, unit_name, district_code, filler = rng.choice(units)
            reviewer = users.get(f"{district_code.lower()}.reviewer", office)
            month = Month(year, rng.randint(1, 12))
            state = rng.choices(names, weights=weights)[0]
            row, chain = _nomination(rng, next_id, form, workflow, key, unit_id, unit_name, filler, reviewer,
                                     office, month, state)
            rows.append(row)
            events.extend(chain)
            next_id += 1
        bulk_insert(Submission.__table__, rows, chunk=batch)
        bulk_insert(AuditEvent.__table__, events, chunk=5 * batch)
        db.session.commit()
        added += len(rows)
        events_added += len(events)
    sync_sequences(Submission.__table__)
    db.session.commit()
    return added, events_added


def _units():
    fillers = {}
    for unit_id, user_id in db.session.execute(select(RoleGrant.unit_id, RoleGrant.user_id).where(
            RoleGrant.role == Role.FILLER.value).order_by(RoleGrant.id)):
        fillers.setdefault(unit_id, user_id)
    districts = {u.id: u.code for u in db.session.execute(select(Unit).where(Unit.depth == 1)).scalars()}
    out = []
    for unit_id, path, name in db.session.execute(select(Unit.id, Unit.path, Unit.name).where(
            Unit.kind.in_(REPORTING_KINDS), Unit.active.is_(True)).order_by(Unit.id)):
        parts = path.strip("/").split("/")
        if len(parts) > 1 and unit_id in fillers and int(parts[1]) in districts:
            out.append((unit_id, name, districts[int(parts[1])], fillers[unit_id]))
    if not out:
        raise RuntimeError("no unit with a filler to nominate from")
    return out


def _nomination(rng, sid, form, workflow, key, unit_id, unit_name, filler, reviewer, office, month, state):
    actions = PATHS[state]
    # Written up in the last ten days of the month; nominated by the district mostly before the deadline.
    start = datetime.combine(month.last, datetime.min.time()) - timedelta(days=rng.uniform(0, 10))
    times, at = [], start
    for action in actions:
        at = at + timedelta(days=rng.uniform(0.2, 4 if action != "nominate" or rng.random() < 0.85 else 25),
                            microseconds=rng.randrange(1_000_000))
        times.append(at)
    chain, prev, current = [], audit.GENESIS, "draft"
    actors = {"submit": filler, "return": reviewer, "reject": reviewer, "nominate": reviewer, "select": office}
    for seq, (action, when) in enumerate(zip(actions, times), start=1):
        to_state = "not_selected" if (action == "reject" and current == "nominated") else \
            ("rejected" if action == "reject" else TO[action])
        event = {"submission_id": sid, "seq": seq, "actor_id": actors[action], "action": action,
                 "from_state": current, "to_state": to_state,
                 "comment": "未达到评选标准。" if action in ("reject", "return") else None,
                 "form_version": form.version, "workflow_version": workflow.version, "at": when, "prev_hash": prev}
        event["hash"] = prev = audit.event_hash(prev, SimpleNamespace(**event), key)
        chain.append(event)
        current = to_state
    assert current == state, (state, actions)
    kind = rng.choice(KINDS)
    name = person_name(rng) if kind == "individual" else f"{unit_name}志愿服务{'项目' if kind == 'project' else '队'}"
    answers = {"kind": kind, "month": str(month), "name": name, "deeds": DEEDS, "recommender": person_name(rng),
               "contact_phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}", "photos": []}
    if kind != "individual":
        answers["organisation"] = unit_name
    state_since = times[-1] if times else start
    row = {"id": sid, "form_version_id": form.id, "form_key": form.key, "form_version": form.version,
           "form_sha256": form.sha256, "unit_id": unit_id, "created_by_id": filler,
           "workflow_version_id": workflow.id, "state": state, "state_since": state_since, "due_at": None,
           "campaign": kind, "period": str(month), "title": name[:200], "audit_head": prev if chain else None,
           "answers": answers, "row_version": 1 + len(chain), "created_at": start, "updated_at": state_since,
           "submitted_at": times[0] if times else None}
    return row, chain
