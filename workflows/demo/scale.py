"""The notice's scale, generated fast: ~1,000 units, a year of 12,000 activity reports, 300,000 volunteers.

``seed_scale(factor=1)`` builds on the demo city (``seed_demo``) and tops it
up to ``1,000 × factor × size`` units spread over the 11 districts (civilized
units and communities under each district office, volunteer teams under its
volunteer federation), one filler account per ~10 new units (granted at each
of them), and ``12,000 × factor × size`` activity reports of ``year``: each a
Submission of ``activity_report`` pinned to ``activity_review``, with the
answers the form would store, its summary columns, a state spread like a real
year and the audit events that lead to that state, hash-chained exactly as
``engine.audit.append`` would chain them (HMAC under the app's AUDIT_KEY), so
``audit.verify()`` passes. With ``volunteers=True`` (the default) it then
registers ``300,000 × factor × size`` volunteers and gives the year's
certified reports ``1,000,000 × factor × size`` service records, with the
counters that follow them (``scale_volunteers`` says how).

Speed comes from bulk inserts (Core ``insert(table)`` with lists of dicts, a
few thousand rows at a time), one password hash for every new account and a
pool of ~500 volunteers whose ID numbers are protected once and reused in the
rosters of the reports (those of certified reports are replaced by
registered people when volunteers are seeded).

Dates: finished items (published, archived, certified, rejected) move
forward from the activity's date in ``year``; items still in flight (draft,
submitted, returned, approved) are dated back from now, so their deadlines
mean something: most submitted items are within their 5 working days, some
are overdue. Running it again tops up to the same targets and adds nothing
more.
"""
import hashlib
import json
import random
import time
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from .bulk import BATCH, bulk_insert, sync_sequences
from .city import DEMO_PASSWORD, DISTRICTS, seed_demo
from .people import REGION_CODES, id_number, person_name as _person, phone_number
from .scale_volunteers import RECORDS, VOLUNTEERS, seed_volunteers
from ..engine import audit, deadlines
from ..engine.definition import load_workflow
from ..extensions import db
from ..models import (AuditEvent, FormVersion, Role, RoleGrant, ServiceRecord, Snapshot, Submission, Unit, UnitKind,
                     User, Volunteer, WorkflowVersion)
from ..models.units import utcnow

UNITS = 1_000
REPORTS = 12_000
UNITS_PER_FILLER = 10
VOLUNTEER_POOL = 500

FORM_KEY = "activity_report"
WORKFLOW_KEY = "activity_review"
REPORTING_KINDS = (UnitKind.CIVILIZED_UNIT.value, UnitKind.COMMUNITY.value, UnitKind.TEAM.value)

# Share of the year's reports in each state (sums to 1).
STATE_SHARES = {
    "published": 0.62, "archived": 0.10, "certified": 0.07, "approved": 0.05,
    "submitted": 0.03, "returned": 0.02, "rejected": 0.04, "draft": 0.07,
}
# The actions that lead from the initial state to each state.
PATHS = {
    "draft": [],
    "submitted": ["submit"],
    "returned": ["submit", "return"],
    "rejected": ["submit", "reject"],
    "approved": ["submit", "approve"],
    "certified": ["submit", "approve", "certify"],
    "archived": ["submit", "approve", "certify", "archive"],
    "published": ["submit", "approve", "certify", "archive", "publish"],
}
IN_FLIGHT = ("draft", "submitted", "returned", "approved")
RETURN_ROUND = 0.08          # share of the items past review that were returned once on the way
# Days between an event and the next one (low, high), by the later event's action.
GAPS = {"submit": (0.2, 4), "resubmit": (0.5, 5), "approve": (0.1, 6), "return": (0.1, 5), "reject": (0.2, 6),
        "certify": (0.2, 9), "archive": (1, 20), "publish": (1, 25)}

DISTRICT_WEIGHTS = {"YZ": 1.2, "YD": 1.0, "YQ": 1.0, "LQ": 1.4, "TH": 1.3, "FN": 1.1, "YS": 1.2, "JS": 0.8,
                    "KFQ": 0.5, "FH": 0.4, "SZ": 1.1}
KIND_SHARES = ((UnitKind.CIVILIZED_UNIT.value, 0.45), (UnitKind.COMMUNITY.value, 0.35),
               (UnitKind.TEAM.value, 0.20))

THEME_SHARES = {"lantern": 0.11, "leifeng": 0.20, "qingming": 0.11, "dragon_boat": 0.10, "gaokao": 0.08,
                "mid_autumn": 0.12, "other": 0.28}
# The festival's day in 2017 (month, day); other years reuse them as an approximation.
THEME_DAYS = {"lantern": (2, 11), "leifeng": (3, 5), "qingming": (4, 4), "dragon_boat": (5, 30),
              "gaokao": (6, 7), "mid_autumn": (10, 4)}
THEME_TITLES = {
    "lantern": ["“我们的节日·元宵”猜灯谜志愿服务活动", "元宵节送汤圆进社区", "闹元宵·送温暖志愿服务", "元宵节文明观灯引导"],
    "leifeng": ["学雷锋志愿服务集中行动", "“学雷锋·树新风”便民服务", "学雷锋纪念日义诊义剪", "弘扬雷锋精神清洁家园"],
    "qingming": ["文明祭扫志愿服务", "清明节文明祭祀宣传", "“缅怀先烈”清明祭扫活动", "清明节鲜花换纸钱"],
    "dragon_boat": ["“我们的节日·端午”包粽子活动", "端午节关爱空巢老人", "端午送粽慰问困难群众", "端午节传统文化进校园"],
    "gaokao": ["爱心护考志愿服务", "“助力高考”爱心送考", "高考考点交通疏导", "高考爱心服务站"],
    "mid_autumn": ["“我们的节日·中秋”邻里联欢", "中秋节慰问孤寡老人", "月圆中秋·情暖社区", "中秋送月饼献爱心"],
    "other": ["环境卫生集中整治", "文明交通劝导", "关爱留守儿童", "垃圾分类宣传", "敬老院慰问演出", "创建文明城市志愿宣传"],
}
OTHER_THEMES = ["创建全国文明城市", "垃圾分类", "文明交通", "关爱留守儿童", "国家卫生城市复审", "重阳敬老"]
THEME_TOPICS = {"lantern": ["warmth", "elderly"], "leifeng": ["warmth", "environment", "elderly"],
                "qingming": ["remembrance", "environment"], "dragon_boat": ["warmth", "elderly"],
                "gaokao": ["exam_care"], "mid_autumn": ["warmth", "elderly"],
                "other": ["environment", "warmth", "elderly", "other"]}
OPENINGS = {"lantern": "元宵佳节来临之际", "leifeng": "3月5日学雷锋纪念日当天", "qingming": "清明节期间",
            "dragon_boat": "端午节前夕", "gaokao": "高考期间", "mid_autumn": "中秋佳节来临之际", "other": "按照市文明办统一部署"}
BODIES = [
    "志愿者们分工协作，入户走访辖区困难群众，送去慰问品并帮助打扫卫生、整理房间，耐心倾听他们的需求。",
    "活动现场设置咨询台和服务点，志愿者为群众提供政策宣传、义诊测血压、理发修鞋等便民服务。",
    "志愿者们沿街清理卫生死角、捡拾垃圾、劝导不文明行为，向过往群众发放文明倡议书。",
    "志愿者们在路口和考点周边维持秩序、疏导交通，为考生和家长提供饮用水、文具和咨询服务。",
    "志愿者们与老人们一起包饺子、拉家常、表演节目，陪伴他们度过了一个温暖热闹的节日。",
    "活动通过展板、讲座和互动问答等形式，宣传文明新风和社会主义核心价值观，群众参与热情很高。",
]
CLOSINGS = ["此次活动受到群众的一致好评，进一步弘扬了“奉献、友爱、互助、进步”的志愿精神。",
            "活动共服务群众百余人次，营造了崇德向善、文明和谐的良好氛围。",
            "下一步，我们将把志愿服务常态化、制度化，持续开展形式多样的主题活动。"]
PLACES = ["社区党群服务中心", "社区广场", "单位会议室", "敬老院", "中心学校", "人民广场", "西湖景区", "汽车站候车厅",
          "颍河沿岸", "农贸市场", "考点周边路口", "文化活动中心", "烈士陵园", "福利院"]
BENEFICIARIES = ["辖区孤寡老人 {n} 人", "困难群众 {n} 户", "留守儿童 {n} 名", "过往群众 {n} 余人次", "考生及家长 {n} 余人",
                 "社区居民 {n} 余人", "环卫工人 {n} 名", "残疾人 {n} 名"]
COMMENTS = {"return": ["请补充活动照片和参与人数。", "活动内容过于简单，请补充活动经过和成效。", "服务时长填写有误，请核实后重新提交。",
                       "部分志愿者身份证号码与登记信息不一致，请核对。"],
            "reject": ["活动不属于本次节点主题范围，不予采纳。", "与已报送活动重复，不予采纳。", "活动未实际开展，不予采纳。"],
            "approve": ["同意。", "材料齐全，审核通过。", None, None, None]}

TOWNS = ["城关", "东关", "西湖", "三合", "程集", "袁集", "马寨", "九龙", "王店", "杨楼", "新华", "光明", "和平", "胜利", "幸福",
         "团结", "向阳", "建设", "振兴", "清河", "文峰", "鼓楼", "中市", "北京路", "双清"]
CIVILIZED = ["人民医院", "中医院", "妇幼保健院", "实验小学", "第一中学", "第二中学", "职业技术学校", "税务局", "公安分局",
             "市场监督管理局", "供电公司", "农商银行", "邮政分公司", "人民法院", "人民检察院", "住房和城乡建设局", "交通运输局",
             "自然资源局", "财政局", "卫生院", "中心学校", "文化站", "民政所", "派出所", "移动营业厅", "电信营业厅", "自来水公司",
             "燃气公司", "图书馆", "幼儿园"]
COMMUNITIES = ["和谐", "幸福", "阳光", "清河", "颍西", "颍南", "泉北", "东湖", "柳湖", "金桥", "银湖", "新村", "花园", "文昌",
               "人民路", "淮河路", "三里湾", "七里长廊", "南京路", "青年路"]
TEAMS = ["红马甲", "蓝天", "雷锋", "爱心", "青年", "巾帼", "银发", "阳光", "春风", "护河", "文明交通", "心连心", "邻里守望",
         "助残", "关爱留守儿童"]


def seed_scale(factor=1, year=2017, seed=7, size=1.0, now=None, batch=BATCH, volunteers=True):
    """Top the demo city up to the notice's scale; returns counts (added and in all) and the seconds taken.

    ``factor`` multiplies the notice's scale (10 for the 10× variant);
    ``size`` scales it down for trials and tests (0.1: ~100 units, 1,200 reports,
    30,000 volunteers, 100,000 service records); ``volunteers=False`` leaves
    the registry and the hours ledger as they are.
    """
    started = time.perf_counter()
    seed_demo()
    target_units = max(1, round(UNITS * factor * size))
    target_reports = max(0, round(REPORTS * factor * size))
    generator = _Generator(year=year, seed=seed, now=now)
    units_added, users_added = generator.add_units(target_units)
    existing = db.session.execute(select(func.count()).select_from(Submission)
                                  .where(Submission.form_key == FORM_KEY)).scalar()
    added = generator.add_reports(max(0, target_reports - existing), batch=batch)
    db.session.commit()
    people = {"volunteers_added": 0, "records_added": 0}
    if volunteers:
        people = seed_volunteers(generator, round(VOLUNTEERS * factor * size), round(RECORDS * factor * size))
    totals = {name: db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()
              for name, model, where in (("units", Unit, ()), ("users", User, ()), ("volunteers", Volunteer, ()),
                                         ("records", ServiceRecord, (ServiceRecord.is_current.is_(True),)))}
    totals["reports"] = existing + added["reports"]
    return {"units": totals["units"], "users": totals["users"], "reports": totals["reports"],
            "volunteers": totals["volunteers"], "records": totals["records"],
            "units_added": units_added, "users_added": users_added, "reports_added": added["reports"],
            "audit_events_added": added["events"], "snapshots_added": added["snapshots"],
            "states_added": added["states"], "volunteers_added": people["volunteers_added"],
            "records_added": people["records_added"], "seconds": round(time.perf_counter() - started, 2)}


def add_reports(count, state="submitted", district="YZ", seed=11, now=None):
    """``count`` more activity reports in ``state`` at units of one district (code, e.g. "YZ"), for benchmarks.

    Returns the new submissions' ids, oldest first by the time they entered ``state``.
    """
    generator = _Generator(year=(now or utcnow()).year - 1, seed=seed, now=now)
    ids = generator.add_reports(count, states={state: 1.0}, district=district)["ids"]
    db.session.commit()
    return ids


# --- generation ------------------------------------------------------------------------------

class _Generator:
    def __init__(self, year, seed, now=None):
        self.year = year
        self.rng = random.Random(seed)
        self.now = (now or utcnow()).replace(tzinfo=None)
        self.today = min(self.now.date(), date.today())
        self.form = db.session.execute(select(FormVersion).where(
            FormVersion.key == FORM_KEY, FormVersion.status == "published")
            .order_by(FormVersion.version.desc()).limit(1)).scalar_one()
        self.workflow_row = db.session.execute(select(WorkflowVersion).where(
            WorkflowVersion.key == WORKFLOW_KEY, WorkflowVersion.status == "published")
            .order_by(WorkflowVersion.version.desc()).limit(1)).scalar_one()
        self.spec = self.form.spec
        self.workflow = load_workflow(self.workflow_row.source, self.spec)
        self.steps = self._steps()
        self.districts = self._districts()
        self._volunteers = None
        self.audit_key = audit.audit_key()

    # The workflow decides what each action does; the paths above only name the actions.
    def _steps(self):
        steps = {}
        for actions in list(PATHS.values()) + [["submit", "return", "submit"]]:
            state = self.workflow.initial
            for action in actions:
                transition = self.workflow.find(state, action)
                if transition is None:
                    raise RuntimeError(f"{WORKFLOW_KEY} has no {action!r} from {state!r}")
                duration = transition.model.due or self.workflow.state(transition.model.to).due
                steps[(state, action)] = (transition.model.to, duration)
                state = transition.model.to
        return steps

    def _districts(self):
        offices = {u.code: u for u in db.session.execute(select(Unit).where(
            Unit.code.in_([d[0] for d in DISTRICTS] + [f"{d[0]}-V1" for d in DISTRICTS]))).scalars()}
        users = {name: uid for name, uid in db.session.execute(select(User.username, User.id))}
        out = {}
        for code, area, _, _ in DISTRICTS:
            low = code.lower()
            office = offices[code]
            out[office.id] = SimpleNamespace(
                code=code, area=area, office=office, org=offices[f"{code}-V1"],
                reviewer=users[f"{low}.reviewer"], certifier=users[f"{low}.certifier"])
        self.office_user = users["city.office"]
        return out

    # --- units and fillers ---

    def add_units(self, target):
        have = db.session.execute(select(func.count()).select_from(Unit)).scalar()
        missing = target - have
        if missing <= 0:
            return 0, 0
        rng = self.rng
        next_unit = db.session.execute(select(func.max(Unit.id))).scalar() + 1
        next_user = db.session.execute(select(func.max(User.id))).scalar() + 1
        districts = list(self.districts.values())
        weights = [DISTRICT_WEIGHTS.get(d.code, 1.0) for d in districts]
        picks = rng.choices(districts, weights=weights, k=missing)
        names = set(db.session.execute(select(Unit.name)).scalars())
        password_hash = generate_password_hash(DEMO_PASSWORD)
        now = utcnow()
        units, users, grants = [], [], []
        by_district = {}
        kinds, shares = zip(*KIND_SHARES)
        for district in picks:
            kind = rng.choices(kinds, weights=shares)[0]
            parent = district.org if kind == UnitKind.TEAM.value else district.office
            uid = next_unit
            next_unit += 1
            name = self._unit_name(district, kind, names)
            units.append({"id": uid, "parent_id": parent.id, "kind": kind, "code": f"{district.code}-X{uid}",
                          "name": name, "path": f"{parent.path}{uid}/", "depth": parent.depth + 1, "active": True,
                          "created_at": now})
            by_district.setdefault(district.code, []).append((uid, name))
        for code, members in by_district.items():
            for start in range(0, len(members), UNITS_PER_FILLER):
                group = members[start:start + UNITS_PER_FILLER]
                user_id = next_user
                next_user += 1
                users.append({"id": user_id, "username": f"{code.lower()}.f{user_id}",
                              "display_name": f"{group[0][1]}填报员", "password_hash": password_hash,
                              "active": True, "unit_id": group[0][0], "language": None, "created_at": now})
                grants.extend({"user_id": user_id, "unit_id": unit_id, "role": Role.FILLER.value,
                               "granted_by_id": None, "created_at": now} for unit_id, _ in group)
        bulk_insert(Unit.__table__, units)
        bulk_insert(User.__table__, users)
        bulk_insert(RoleGrant.__table__, grants)
        sync_sequences(Unit.__table__, User.__table__)
        db.session.commit()
        return len(units), len(users)

    def _unit_name(self, district, kind, names):
        rng = self.rng
        if kind == UnitKind.CIVILIZED_UNIT.value:
            name = f"{district.area}{rng.choice(TOWNS)}{rng.choice(CIVILIZED)}"
        elif kind == UnitKind.COMMUNITY.value:
            name = f"{district.area}{rng.choice(TOWNS)}街道{rng.choice(COMMUNITIES)}社区"
        else:
            name = f"{district.area}{rng.choice(TEAMS)}志愿服务队"
        unique, n = name, 1
        while unique in names:
            n += 1
            unique = f"{name}（{n}）"
        names.add(unique)
        return unique

    # --- reports ---

    def reporting_units(self, district=None):
        """(unit id, district, unit name, filler id, weight) for each unit that reports."""
        fillers = {}
        for unit_id, user_id in db.session.execute(
                select(RoleGrant.unit_id, RoleGrant.user_id).where(RoleGrant.role == Role.FILLER.value)
                .order_by(RoleGrant.id)):
            fillers.setdefault(unit_id, user_id)
        rows = db.session.execute(select(Unit.id, Unit.path, Unit.name).where(
            Unit.kind.in_(REPORTING_KINDS), Unit.active.is_(True)).order_by(Unit.id)).all()
        rng = random.Random(self.rng.random())
        out = []
        for unit_id, path, name in rows:
            parts = path.strip("/").split("/")
            office = self.districts.get(int(parts[1])) if len(parts) > 1 else None
            if office is None or unit_id not in fillers or (district and office.code != district):
                continue
            # Some units report a lot, most a little.
            out.append((unit_id, office, name, fillers[unit_id], rng.lognormvariate(0, 0.6)))
        if not out:
            raise RuntimeError("no unit with a filler to report from")
        return out

    def add_reports(self, count, batch=BATCH, states=None, district=None):
        result = {"reports": 0, "events": 0, "snapshots": 0, "states": {}, "ids": []}
        if count <= 0:
            return result
        rng = self.rng
        units = self.reporting_units(district)
        weights = [u[4] for u in units]
        shares = states or STATE_SHARES
        state_names, state_weights = list(shares), list(shares.values())
        themes, theme_weights = list(THEME_SHARES), list(THEME_SHARES.values())
        next_id = (db.session.execute(select(func.max(Submission.id))).scalar() or 0) + 1
        done = 0
        while done < count:
            n = min(batch, count - done)
            submissions, events, snapshots = [], [], []
            picks = rng.choices(units, weights=weights, k=n)
            for unit in picks:
                state = rng.choices(state_names, weights=state_weights)[0]
                theme = rng.choices(themes, weights=theme_weights)[0]
                row, chain, snapshot = self._report(next_id, unit, state, theme)
                submissions.append(row)
                events.extend(chain)
                if snapshot:
                    snapshots.append(snapshot)
                result["states"][state] = result["states"].get(state, 0) + 1
                result["ids"].append((row["state_since"], next_id))
                next_id += 1
            bulk_insert(Submission.__table__, submissions, chunk=batch)
            bulk_insert(AuditEvent.__table__, events, chunk=5 * batch)
            bulk_insert(Snapshot.__table__, snapshots, chunk=batch)
            db.session.commit()
            done += n
            result["reports"] += n
            result["events"] += len(events)
            result["snapshots"] += len(snapshots)
        sync_sequences(Submission.__table__)
        result["ids"] = [i for _, i in sorted(result["ids"])]
        return result

    def _report(self, sid, unit, state, theme):
        rng = self.rng
        unit_id, district, unit_name, filler, _ = unit
        actions = list(PATHS[state])
        if "approve" in actions and rng.random() < RETURN_ROUND:
            actions[1:1] = ["return", "submit"]
        elif state == "returned" and rng.random() < 0.2:
            actions = ["submit", "return", "submit", "return"]
        held_on = self._held_on(theme)
        times, held_on = self._times(state, actions, held_on)
        answers = self._answers(theme, held_on, unit_name)
        chain, prev, current, due, submitted_at = [], audit.GENESIS, self.workflow.initial, None, None
        actors = {"submit": filler, "withdraw": filler, "approve": district.reviewer, "return": district.reviewer,
                  "reject": district.reviewer, "certify": district.certifier, "archive": self.office_user,
                  "publish": self.office_user}
        archived_at = None
        for seq, (action, at) in enumerate(zip(actions, times[1:]), start=1):
            to_state, duration = self.steps[(current, action)]
            comment = rng.choice(COMMENTS[action]) if action in COMMENTS else None
            event = {"submission_id": sid, "seq": seq, "actor_id": actors[action], "action": action,
                     "from_state": current, "to_state": to_state, "comment": comment,
                     "form_version": self.form.version, "workflow_version": self.workflow_row.version,
                     "at": at, "prev_hash": prev}
            event["hash"] = prev = audit.event_hash(prev, SimpleNamespace(**event), self.audit_key)
            chain.append(event)
            due = _due(at, duration) if duration else None
            if action == "submit":
                submitted_at = at
            if action == "archive":
                archived_at = at
            current = to_state
        assert current == state, (state, actions)
        state_since = times[-1]
        row = {"id": sid, "form_version_id": self.form.id, "form_key": self.form.key,
               "form_version": self.form.version, "form_sha256": self.form.sha256, "unit_id": unit_id,
               "created_by_id": filler, "workflow_version_id": self.workflow_row.id, "state": state,
               "state_since": state_since, "due_at": due, "campaign": theme, "period": held_on.strftime("%Y-%m"),
               "activity_on": held_on, "title": answers["title"][:200],
               "audit_head": chain[-1]["hash"] if chain else None,
               "answers": answers, "row_version": 1 + len(chain), "created_at": times[0],
               "updated_at": state_since, "submitted_at": submitted_at}
        snapshot = self._snapshot(sid, answers, archived_at) if archived_at else None
        return row, chain, snapshot

    def _snapshot(self, sid, answers, at):
        """What the ``freeze`` effect of ``archive`` keeps (no files: the generated reports have none)."""
        return {"submission_id": sid, "answers": answers, "files": [], "form_key": self.form.key,
                "form_version": self.form.version, "form_sha256": self.form.sha256,
                "workflow_key": self.workflow.key, "workflow_version": self.workflow.version,
                "sha256": self.snapshot_digest(answers), "created_at": at}

    def snapshot_digest(self, answers):
        """The SHA-256 ``freeze`` keeps of the answers (no files), the form and the workflow."""
        record = {"answers": answers, "files": [], "form": [self.form.key, self.form.version, self.form.sha256],
                  "workflow": [self.workflow.key, self.workflow.version]}
        return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def _held_on(self, theme):
        rng = self.rng
        first, last = date(self.year, 1, 1), min(date(self.year, 12, 31), self.today - timedelta(days=1))
        if last < first:
            last = first
        if theme in THEME_DAYS:
            month, day = THEME_DAYS[theme]
            # Inside the campaign's window (a week either side of the node), as the form's theme requires.
            held = date(self.year, month, day) + timedelta(days=round(rng.triangular(-7, 7, 0)))
        else:
            held = first + timedelta(days=rng.randrange((last - first).days + 1))
        return min(max(held, first), last)

    def _times(self, state, actions, held_on):
        """[created_at, the time of each action…]; finished items move forward, in-flight ones back from now."""
        rng = self.rng

        def gap(action, index):
            low, high = GAPS["resubmit" if action == "submit" and index > 0 else action]
            return timedelta(days=rng.uniform(low, high), microseconds=rng.randrange(1_000_000))

        if state in IN_FLIGHT:
            if state == "submitted":
                # Five working days: mostly still in time, about a quarter overdue.
                ago = rng.uniform(0.02, 5) if rng.random() < 0.75 else rng.uniform(9, 40)
            elif state == "approved":
                ago = rng.uniform(0.05, 18)  # ten working days: about a quarter overdue
            else:
                ago = rng.uniform(0.05, 40)
            times = [self.now - timedelta(days=ago, microseconds=rng.randrange(1_000_000))]
            for index in range(len(actions) - 1, -1, -1):
                times.insert(0, times[0] - gap(actions[index], index))
            if not actions:
                times.insert(0, times[0])  # a draft: created when last saved (it has no events)
            held_on = min(held_on, (times[0] - timedelta(days=1)).date())
            return times, held_on
        start = datetime.combine(held_on, datetime.min.time()) + timedelta(
            hours=rng.uniform(9, 36))  # written up on the day or the next
        times = [start]
        for index, action in enumerate(actions):
            times.append(times[-1] + gap(action, index))
        late = times[-1] - (self.now - timedelta(hours=1))
        if late > timedelta(0):
            times = [t - late for t in times]
            held_on = min(held_on, times[0].date())
        return times, held_on

    def volunteers(self):
        """~500 volunteers: name, protected ID number, phone; protected once, reused in every roster."""
        if self._volunteers is None:
            from ..filling.personal_data import protect_number
            rng = random.Random(self.rng.random())
            pool, regions = [], list(REGION_CODES.values())
            for _ in range(VOLUNTEER_POOL):
                born = date(1955, 1, 1) + timedelta(days=rng.randrange(50 * 365))
                number = id_number(rng.choice(regions), born, rng.randrange(1000))
                pool.append({"name": _person(rng), "id_number": protect_number(number), "phone": phone_number(rng)})
            self._volunteers = pool
        return self._volunteers

    def _answers(self, theme, held_on, unit_name):
        rng = self.rng
        pool = self.volunteers()
        size = int(rng.triangular(3, 31, 8))
        roster = []
        for person in rng.sample(pool, min(size, len(pool))):
            row = {"name": person["name"], "id_number": person["id_number"]}
            if rng.random() < 0.8:
                row["phone"] = person["phone"]
            row["hours"] = min(8.0, max(0.5, round(rng.triangular(0.5, 8, 2.5) * 2) / 2))
            roster.append(row)
        title = rng.choice(THEME_TITLES[theme])
        place = rng.choice(PLACES)
        named = title if "“" in title else f"“{title}”"
        content = (f"{OPENINGS[theme]}，{unit_name}组织{len(roster)}名志愿者在{place}开展{named}活动。"
                   f"{rng.choice(BODIES)}{rng.choice(CLOSINGS)}")
        answers = {"theme": theme}
        if theme == "other":
            answers["theme_other"] = rng.choice(OTHER_THEMES)
        answers.update({
            "topics": sorted(set(rng.sample(THEME_TOPICS[theme], rng.randint(1, len(THEME_TOPICS[theme]))))),
            "title": title, "held_on": held_on.isoformat(), "place": place,
            "beneficiaries": rng.choice(BENEFICIARIES).format(n=rng.randint(5, 200)), "content": content,
            "has_media": False, "roster": roster, "volunteer_count": len(roster),
            "total_hours": float(sum(r["hours"] for r in roster)),
            "person_in_charge": _person(rng), "contact_phone": phone_number(rng),
            "recorder": _person(rng),
        })
        if rng.random() < 0.15:
            answers["has_media"] = True
            answers["media_links"] = rng.choice(["阜阳日报", "颍州晚报", "阜阳新闻网", "文明阜阳微信公众号"])
        return answers


@lru_cache(maxsize=4096)
def _due_on(day, duration):
    return deadlines.due_at(datetime.combine(day, datetime.min.time()), duration)


def _due(at, duration):
    if duration.endswith("WD"):
        return _due_on(at.date(), duration)  # working-day deadlines depend on the day only
    return deadlines.due_at(at, duration)
