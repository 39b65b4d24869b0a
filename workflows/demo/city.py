"""The demo city: Fuyang's public structure from the notice, with a user for every role."""
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from forms.definition import load_definition

from ..assessment.campaigns.plans import generate as generate_campaigns
from ..documents.circulars.numbering import prefix_of, set_prefix
from ..engine.definition import load_workflow
from ..extensions import db
from ..filling.form_versions import newest_released
from ..models import FormVersion, Role, RoleGrant, Unit, UnitKind, User, WorkflowVersion
from ..models.units import utcnow
from ..org.operations import create_unit, create_user

DEMO_PASSWORD = "wenming-demo"

CITY = ("FY", "阜阳市文明办")

# (code, area name, civilized units, communities)
DISTRICTS = [
    ("YZ", "颍州区", ["颍州区人民医院", "颍州区实验小学"], ["文峰街道清河路社区", "鼓楼街道鼓楼社区"]),
    ("YD", "颍东区", ["颍东区税务局", "颍东区第一中学"], ["河东街道东城社区", "向阳街道向阳社区"]),
    ("YQ", "颍泉区", ["颍泉区人民法院", "颍泉区中医院"], ["周棚街道周棚社区", "中市街道三里湾社区"]),
    ("LQ", "临泉县", ["临泉县人民医院", "临泉第一中学"], ["城关街道姜寨社区", "田桥街道田桥社区"]),
    ("TH", "太和县", ["太和县中医院", "太和第一中学"], ["城关镇细阳社区", "旧县镇旧县社区"]),
    ("FN", "阜南县", ["阜南县人民医院", "阜南县实验中学"], ["鹿城镇洪河社区", "会龙镇会龙社区"]),
    ("YS", "颍上县", ["颍上县人民医院", "颍上第一中学"], ["慎城镇管仲社区", "八里河镇八里河社区"]),
    ("JS", "界首市", ["界首市人民医院", "界首第一中学"], ["东城街道东城社区", "西城街道西城社区"]),
    ("KFQ", "阜阳经济技术开发区", ["开发区管委会", "阜阳经开区实验学校"], ["京九街道京九社区", "新阳社区"]),
    ("FH", "阜合现代产业园区", ["阜合园区管委会", "阜合园区建设集团"], ["袁寨镇园区社区", "三塔集镇新区社区"]),
    ("SZ", "市直机关", ["市教育局", "市卫生健康委员会"], ["市直机关第一党支部社区", "市政务服务中心"]),
]


def _unit(parent, kind, code, name):
    unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None:
        unit = create_unit(parent, kind, code, name)
    return unit


@lru_cache(maxsize=1)
def _demo_hash():
    return generate_password_hash(DEMO_PASSWORD)


def _user(username, name, unit, *grants):
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        user = create_user(username, name, DEMO_PASSWORD, unit, password_hash=_demo_hash())
    for role, at in grants:
        held = db.session.execute(select(RoleGrant.id).where(
            RoleGrant.user_id == user.id, RoleGrant.unit_id == at.id, RoleGrant.role == role.value)).first()
        if not held:
            db.session.add(RoleGrant(user=user, unit=at, role=role.value))
    return user


def seed_demo():
    """Create or complete the demo city; running it again changes nothing."""
    city = _unit(None, UnitKind.OFFICE.value, *CITY)
    _user("admin", "系统管理员", city, (Role.ADMIN, city))
    # The city office certifies too (an office above every organiser), so a report its own
    # certifier filed can still be certified by someone else.
    _user("city.office", "市文明办志愿服务科", city, (Role.OFFICE, city), (Role.REVIEWER, city),
          (Role.CERTIFIER, city))
    # The monthly top ten's panel: everyone holding the office role at the city office (at least
    # BALLOT_MIN_PANEL, 3, for a ballot to open).
    _user("city.office2", "市文明办宣传教育科", city, (Role.OFFICE, city))
    _user("city.office3", "市文明办精神文明创建科", city, (Role.OFFICE, city))
    # The office's head signs (签发) circulars; the office role lets signing move the reports a circular covers.
    _user("city.head", "市文明办主任", city, (Role.SIGNER, city), (Role.OFFICE, city))
    for code, area, civilized, communities in DISTRICTS:
        office = _unit(city, UnitKind.OFFICE.value, code, f"{area}文明办")
        low = code.lower()
        _user(f"{low}.admin", f"{area}管理员", office, (Role.ADMIN, office))
        _user(f"{low}.reviewer", f"{area}审核员", office, (Role.REVIEWER, office))
        reporting = []
        for number, name in enumerate(civilized, start=1):
            unit = _unit(office, UnitKind.CIVILIZED_UNIT.value, f"{code}-U{number}", name)
            _user(f"{low}.u{number}", f"{name}填报员", unit, (Role.FILLER, unit))
            reporting.append(unit)
        for number, name in enumerate(communities, start=1):
            unit = _unit(office, UnitKind.COMMUNITY.value, f"{code}-C{number}", name)
            _user(f"{low}.c{number}", f"{name}填报员", unit, (Role.FILLER, unit))
            reporting.append(unit)
        org = _unit(office, UnitKind.VOLUNTEER_ORG.value, f"{code}-V1", f"{area}志愿服务联合会")
        team = _unit(org, UnitKind.TEAM.value, f"{code}-V1-T1", f"{area}学雷锋志愿服务队")
        # 谁组织谁记录、谁记录谁证明: the district's certifier certifies for every unit that files reports
        # (the organiser); the grant at the federation covers it and its team.
        _user(f"{low}.certifier", f"{area}志愿服务联合会认证员", org, (Role.CERTIFIER, org), (Role.FILLER, org),
              *[(Role.CERTIFIER, unit) for unit in reporting])
        _user(f"{low}.team", f"{team.name}填报员", team, (Role.FILLER, team))
    install_builtin_forms()
    install_builtin_workflows()
    if prefix_of(city) is None:
        set_prefix(city, "阜文明办")
    # The demo's campaigns: this year's plan and 2017's (the notice's year, where the demo reports sit).
    for year in sorted({2017, date.today().year}):
        generate_campaigns(year)
    db.session.commit()
    return city


BUILTIN_FORMS = Path(__file__).parent.parent / "definitions" / "forms"


def install_builtin_forms():
    """Publish each built-in definition whose key and version are not stored yet."""
    installed = []
    for path in sorted(BUILTIN_FORMS.glob("*.yaml")):
        source = path.read_text(encoding="utf-8")
        spec = load_definition(source)
        exists = db.session.execute(select(FormVersion.id).where(
            FormVersion.key == spec.key, FormVersion.version == spec.version)).first()
        if exists:
            continue
        db.session.add(FormVersion(key=spec.key, version=spec.version, sha256=spec.sha256, source=source,
                                   title=spec.schema.title.zh, status="published", published_at=utcnow()))
        installed.append(spec.key)
    return installed


BUILTIN_WORKFLOWS = Path(__file__).parent.parent / "definitions" / "workflows"


def install_builtin_workflows():
    """Publish each built-in workflow whose key and version are not stored yet (after the forms)."""
    db.session.flush()
    installed = []
    for path in sorted(BUILTIN_WORKFLOWS.glob("*.yaml")):
        source = path.read_text(encoding="utf-8")
        form_key = _yaml_form_key(source)
        form = newest_released(form_key)
        spec = load_workflow(source, form.spec if form else None)
        exists = db.session.execute(select(WorkflowVersion.id).where(
            WorkflowVersion.key == spec.key, WorkflowVersion.version == spec.version)).first()
        if exists:
            continue
        db.session.add(WorkflowVersion(key=spec.key, version=spec.version, form_key=spec.schema.form,
                                       sha256=spec.sha256, source=source, status="published", published_at=utcnow()))
        installed.append(spec.key)
    return installed


def _yaml_form_key(source):
    return (yaml.safe_load(source) or {}).get("form")
