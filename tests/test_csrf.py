"""CSRF is checked where it matters: every state-changing page refuses a post without the form token.

The rest of the suite runs with CSRF off for brevity; here the app keeps it
on, as in production. For every POST/PUT/PATCH/DELETE route of every
blueprint, a signed-in person with the right role posts without the token:
the answer is 400 (“表单已过期”) and a concrete row or state is unchanged;
with the token, the same post works (the positive control). A test walks
``app.url_map`` and fails when a state-changing route is missing here.
The JSON API is exempt from the form token by design (a bearer token is
never sent by a browser on its own), but a request riding on the session
cookie must send ``X-Requested-With: fetch`` or a valid ``X-CSRFToken``.
"""
import re
from dataclasses import dataclass
from datetime import date
from typing import Callable, Optional

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, _clear, make_app
from workflows.api import issue_token
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.assessment.campaigns.plans import generate as generate_campaigns
from workflows.models import (ApiToken, AuditEvent, Ballot, BallotMark, Campaign, Circular, FormVersion, JobRun,
                              Notification, RoleGrant, ServiceRecord, Submission, Unit, UnitScore, User, Volunteer,
                              WorkflowVersion)

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
EXPIRED = "表单已过期"


@pytest.fixture
def app(database_url, tmp_path):
    """The conftest app, with CSRF protection on as in production (every factory fixture uses it)."""
    app = make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    assert app.config["WTF_CSRF_ENABLED"]
    yield app
    with app.app_context():
        app.extensions["wenming_jobs"].wait_idle()
    _clear(app)


def csrf_token(client):
    """The token a page gives its forms (every page has one in the language switch)."""
    page = client.get("/login", follow_redirects=True).get_data(as_text=True)
    return TOKEN.search(page).group(1)


def sign_in(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


# --- the world every case starts from ----------------------------------------------------------

RAW_REPORT = {"theme": "leifeng", "title": "测试活动", "held_on": "2017-03-05", "place": "A区",
              "beneficiaries": "老人", "content": "为辖区老人打扫卫生、理发、测量血压，开展防诈骗宣传。" * 3,
              "has_media": "0", "roster": [{"name": "张三", "id_number": "341201199003071232", "hours": "3"}],
              "photos": [{"id": "t", "name": "a.jpg"}], "person_in_charge": "王", "contact_phone": "13800138000",
              "recorder": "李"}

PROBE_FORM = """key: csrf_probe
version: 1
title: 探针表单
fields:
  - {name: note, type: text, label: 备注}
"""


@dataclass
class World:
    app: object
    city: dict
    ids: dict
    clients: dict

    def client(self, who):
        if who not in self.clients:
            self.clients[who] = self.app.test_client() if who is None else sign_in(self.app, who)
        return self.clients[who]

    def read(self, fn):
        with self.app.app_context():
            return fn()


def _report(app, city, filler_id, state_after):
    from forms.answers import to_json, validate
    from workflows.filling.personal_data import protect
    with app.test_request_context():
        form = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                   .order_by(FormVersion.version.desc())).scalars().first()
        workflow = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.form_key == "activity_report")
                                      ).scalars().first()
        outcome = validate(form.spec, RAW_REPORT, today=date(2017, 12, 31))
        assert outcome.ok, outcome.errors
        submission = Submission(definition=form, form_key=form.key, form_version=form.version,
                                form_sha256=form.sha256, unit_id=city["a1"], created_by_id=filler_id,
                                workflow=workflow, state="draft", row_version=1, title="测试活动",
                                answers=protect(form.spec, to_json(outcome.values)))
        db.session.add(submission)
        db.session.commit()
        if state_after == "submitted":
            perform(submission.id, "submit", db.session.get(User, filler_id))
        return submission.id


@pytest.fixture
def world(app, city, create_user, create_unit):
    from workflows.filling import form_versions
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        form_versions.create_draft(PROBE_FORM, None)
        db.session.commit()
    ids = {
        "root": create_user("root", city["city"], "admin", "office"),
        "filler": create_user("filler.a1", city["a1"], "filler"),
        "reviewer": create_user("reviewer.a", city["a"], "reviewer"),
        "certifier": create_user("certifier.a", city["a"], "certifier"),
        "someone": create_user("someone.a1", city["a1"], "filler"),
        "team": create_unit(city["a"], name="A区志愿服务队", code="DA-T", kind="team"),
        "a1_unit": city["a1"],
    }
    with app.app_context():
        ids["grant"] = db.session.execute(select(RoleGrant.id).where(RoleGrant.user_id == ids["someone"])
                                          ).scalar_one()
        ids["api_token"] = issue_token(db.session.get(User, ids["someone"]), "对接脚本")[0].id
        ids["probe_sha"] = db.session.execute(select(FormVersion.sha256).where(FormVersion.key == "csrf_probe")
                                              ).scalar_one()
        generate_campaigns(2017)
        ids["lantern"] = db.session.execute(select(Campaign.id).where(Campaign.key == "lantern")).scalar_one()
        db.session.commit()
    ids["draft"] = _report(app, city, ids["filler"], "draft")
    ids["submitted"] = _report(app, city, ids["filler"], "submitted")
    ids["for_bulk"] = _report(app, city, ids["filler"], "submitted")
    ids["approved"] = _report(app, city, ids["filler"], "submitted")
    ids["certified"] = _report(app, city, ids["filler"], "submitted")
    with app.test_request_context():
        for key in ("approved", "certified"):
            perform(ids[key], "approve", db.session.get(User, ids["reviewer"]))
        perform(ids["certified"], "certify", db.session.get(User, ids["certifier"]))
        ids["volunteer"] = db.session.execute(select(Volunteer.number)).scalar_one()
        ids["record"] = db.session.execute(select(ServiceRecord.record_key)).scalar_one()
    return World(app, city, ids, {})


# --- what each state-changing page changes -------------------------------------------------------

def _get(model, id_, attr):
    return lambda w: w.read(lambda: getattr(db.session.get(model, w.ids[id_] if isinstance(id_, str) else id_),
                                            attr))


def _count(model, *where):
    return lambda w: w.read(lambda: db.session.execute(select(func.count()).select_from(model).where(*where)
                                                       ).scalar())


def _signed_in(who):
    """Whether the person's browser is signed in: the home page answers instead of sending to /login."""
    return lambda w: w.client(who).get("/").status_code == 200


def _language(w):
    page = w.client("filler.a1").get("/").get_data(as_text=True)
    return (w.read(lambda: db.session.get(User, w.ids["filler"]).language), '<html lang="en"' in page)


def _form_status(key, version):
    return lambda w: w.read(lambda: db.session.execute(select(FormVersion.status).where(
        FormVersion.key == key, FormVersion.version == version)).scalar_one())


def _submission(id_):
    return lambda w: w.read(lambda: (lambda s: (s.state, s.row_version, s.title))(
        db.session.get(Submission, w.ids[id_])))


def _record(w):
    return w.read(lambda: db.session.execute(select(ServiceRecord).where(
        ServiceRecord.record_key == w.ids["record"], ServiceRecord.is_current.is_(True))).scalar_one())


def _asked(w):
    """The record with a correction waiting for the organiser (asked for once, the first time it is needed)."""
    record = _record(w)
    if record.change == "certify":
        from workflows.volunteers import corrections
        with w.app.test_request_context():
            corrections.request_correction(w.ids["record"], db.session.get(User, w.ids["filler"]),
                                           w.city["a1"], "时长有误")
        record = _record(w)
    return record


def _answered(w):
    """Whether the organiser has answered the waiting request (measured once it is waiting)."""
    return _asked(w).change


def _record_versions(w):
    return w.read(lambda: db.session.execute(select(func.count()).select_from(ServiceRecord)).scalar())


@dataclass
class Case:
    endpoint: str
    who: Optional[str]                 # who posts (None: not signed in)
    url: Callable[[World], str]
    data: Callable[[World], dict]
    state: Callable[[World], object]   # a concrete row or state the post changes (None: changes nothing)
    # For a post that changes nothing: what its accepted answer must say (default: the definition preview's).
    answer: Optional[str] = None


CASES = [
    Case("auth.login", None, lambda w: "/login",
         lambda w: {"username": "filler.a1", "password": PASSWORD}, lambda w: _signed_in(None)(w)),
    Case("auth.logout", "filler.a1", lambda w: "/logout", lambda w: {},
         lambda w: (_get(User, "filler", "session_generation")(w), _signed_in("filler.a1")(w))),
    Case("i18n.choose", "filler.a1", lambda w: "/language/en", lambda w: {"next": "/"}, _language),
    Case("admin_units.new", "root", lambda w: f"/admin/units/new?parent={w.city['a']}",
         lambda w: {"kind": "community", "code": "DA-NEW", "name": "新社区"}, _count(Unit, Unit.code == "DA-NEW")),
    Case("admin_units.edit", "root", lambda w: f"/admin/units/{w.city['a1']}",
         lambda w: {"kind": "civilized_unit", "code": "DA-1", "name": "改过的名字"}, _get(Unit, "a1_unit", "name")),
    Case("admin_units.move", "root", lambda w: f"/admin/units/{w.ids['team']}/move",
         lambda w: {"move-parent_id": w.city["b"]}, _get(Unit, "team", "parent_id")),
    Case("admin_units.set_active", "root", lambda w: f"/admin/units/{w.ids['team']}/active",
         lambda w: {"active": "0"}, _get(Unit, "team", "active")),
    Case("admin_users.new", "root", lambda w: "/admin/users/new",
         lambda w: {"username": "new.person", "display_name": "新人", "unit_id": w.city["a1"],
                    "password": "another-horse-2"}, _count(User, User.username == "new.person")),
    Case("admin_users.password", "root", lambda w: f"/admin/users/{w.ids['someone']}/password",
         lambda w: {"pw-password": "another-horse-2"}, _get(User, "someone", "password_hash")),
    Case("admin_users.set_active", "root", lambda w: f"/admin/users/{w.ids['someone']}/active",
         lambda w: {"active": "0"}, _get(User, "someone", "active")),
    Case("admin_users.grant", "root", lambda w: f"/admin/users/{w.ids['someone']}/grants",
         lambda w: {"grant-role": "reviewer", "grant-unit_id": w.city["a"]},
         lambda w: _count(RoleGrant, RoleGrant.user_id == w.ids["someone"])(w)),
    Case("admin_users.revoke", "root",
         lambda w: f"/admin/users/{w.ids['someone']}/grants/{w.ids['grant']}/revoke", lambda w: {},
         lambda w: _count(RoleGrant, RoleGrant.id == w.ids["grant"])(w)),
    Case("admin_tokens.issue", "root", lambda w: "/admin/tokens/",
         lambda w: {"username": "someone.a1", "name": "新脚本"}, _count(ApiToken, ApiToken.name == "新脚本")),
    Case("admin_tokens.revoke", "root", lambda w: f"/admin/tokens/{w.ids['api_token']}/revoke",
         lambda w: {}, _get(ApiToken, "api_token", "revoked_at")),
    Case("admin_forms.new", "root", lambda w: "/admin/forms/new",
         lambda w: {"source": PROBE_FORM.replace("csrf_probe", "csrf_other")},
         _count(FormVersion, FormVersion.key == "csrf_other")),
    Case("admin_forms.edit", "root", lambda w: "/admin/forms/csrf_probe/1",
         lambda w: {"action": "save", "source": PROBE_FORM.replace("探针表单", "改过的探针")},
         lambda w: w.read(lambda: db.session.execute(select(FormVersion.title).where(
             FormVersion.key == "csrf_probe")).scalar_one())),
    # The live preview changes nothing: refused without the token, rendered with it.
    Case("admin_forms.preview", "root", lambda w: "/admin/forms/preview",
         lambda w: {"source": PROBE_FORM}, None),
    Case("admin_forms.publish", "root", lambda w: "/admin/forms/csrf_probe/1/publish",
         lambda w: {"confirm": "1", "sha256": w.ids["probe_sha"]}, _form_status("csrf_probe", 1)),
    Case("admin_forms.retire", "root", lambda w: "/admin/forms/activity_report/1/retire",
         lambda w: {}, _form_status("activity_report", 1)),
    Case("submissions.new", "filler.a1", lambda w: "/forms/activity_report/new",
         lambda w: {"action": "save", "title": "新草稿"}, _count(Submission)),
    Case("submissions.edit", "filler.a1", lambda w: f"/submissions/{w.ids['draft']}/edit",
         lambda w: {"action": "save", "row_version": "1", "title": "改过的标题"}, _submission("draft")),
    Case("review.act", "reviewer.a", lambda w: f"/submissions/{w.ids['submitted']}/actions/approve",
         lambda w: {"expected_version": "2", "comment": "同意"}, _submission("submitted")),
    Case("notifications.read_all", "reviewer.a", lambda w: "/notifications/read", lambda w: {},
         _count(Notification, Notification.read_at.is_(None))),
    Case("review.bulk", "reviewer.a", lambda w: "/review/bulk",
         lambda w: {"ids": str(w.ids["for_bulk"]), f"v{w.ids['for_bulk']}": "2", "action": "approve",
                    "batch": "1"}, _submission("for_bulk")),
    Case("volunteers.certify", "certifier.a", lambda w: f"/submissions/{w.ids['approved']}/certify",
         lambda w: {"decision-0": "correct", "hours-0": "2", "reason-0": "核减"}, _submission("approved")),
    Case("volunteers.reveal_row", "certifier.a", lambda w: f"/submissions/{w.ids['certified']}/roster/0/reveal",
         lambda w: {"reason": "核对名单"}, _count(AuditEvent, AuditEvent.action == "reveal_id")),
    Case("volunteers.reveal_volunteer", "certifier.a", lambda w: f"/volunteers/{w.ids['volunteer']}/reveal",
         lambda w: {"reason": "核实身份"}, _count(AuditEvent, AuditEvent.action == "reveal_id")),
    Case("scores.recompute_year", "root", lambda w: "/assessment/scores/recompute", lambda w: {"year": "2017"},
         _count(UnitScore)),
    Case("directory.request_directory", "root", lambda w: "/documents/directory/",
         lambda w: {"unit_id": w.city["a"], "fmt": "xlsx"}, _count(JobRun)),
    Case("certificates.request_certificate", "certifier.a", lambda w: f"/volunteers/{w.ids['volunteer']}/certificates",
         lambda w: {"period_from": "2017-01-01", "period_to": "2017-12-31", "person_in_charge": "周主任",
                    "officer": "吴经办", "contact": "0558-1234567"}, _count(JobRun)),
    Case("certificates.request_batch", "certifier.a", lambda w: "/volunteers/certificates/batch",
         lambda w: {"unit_id": w.city["a1"], "period_from": "2017-01-01", "period_to": "2017-12-31",
                    "person_in_charge": "周主任", "officer": "吴经办", "contact": "0558-1234567"}, _count(JobRun)),
    Case("corrections.ask", "filler.a1", lambda w: f"/volunteers/records/{w.ids['record']}/correction",
         lambda w: {"expected_version": _record(w).version, "reason": "时长有误"}, _record_versions),
    Case("corrections.amend", "certifier.a", lambda w: f"/volunteers/records/{w.ids['record']}/amend",
         lambda w: {"expected_version": _asked(w).version, "hours": "2", "reason": "核实"}, _answered),
    Case("corrections.refuse", "certifier.a", lambda w: f"/volunteers/records/{w.ids['record']}/refuse",
         lambda w: {"expected_version": _asked(w).version, "reason": "无误"}, _answered),
    Case("corrections.revoke", "certifier.a", lambda w: f"/volunteers/records/{w.ids['record']}/revoke",
         lambda w: {"expected_version": _record(w).version, "reason": "未开展"}, _record_versions),
    Case("campaigns.generate", "root", lambda w: "/assessment/campaigns/generate?year=2026",
         lambda w: {}, _count(Campaign, Campaign.year == 2026)),
    Case("campaigns.new", "root", lambda w: "/assessment/campaigns/new?year=2017",
         lambda w: {"key": "disability_day", "name_zh": "全国助残日", "node_on": "2017-05-21",
                    "window_start": "2017-05-14", "window_end": "2017-05-28", "unit_kinds": "community",
                    "forms": "activity_report"}, _count(Campaign, Campaign.key == "disability_day")),
    Case("campaigns.edit", "root", lambda w: f"/assessment/campaigns/{w.ids['lantern']}",
         lambda w: {"name_zh": "元宵节·改", "node_on": "2017-02-11", "window_start": "2017-02-01",
                    "window_end": "2017-02-20", "forms": "activity_report"}, _get(Campaign, "lantern", "name_zh")),
    # Reads only, but with a typed ID number in its body: a cross-site form must not ask.
    Case("roster_lookup.lookup", "filler.a1", lambda w: "/volunteers/lookup",
         lambda w: {"unit": w.city["a1"], "number": RAW_REPORT["roster"][0]["id_number"]}, None,
         answer='"registered":true'),
]


def _ballot(w, status):
    """A monthly ballot (one nomination from a1, panel: root and two more office people) at ``status``."""
    key = f"ballot_{status}"
    if key in w.ids:
        return w.ids[key]
    from datetime import timedelta
    from tests.test_ballots import nominate
    from workflows.assessment.ballots import ballot as ballots
    from workflows.models.units import utcnow
    for name in ("office.b", "office.c"):
        with w.app.app_context():
            if db.session.execute(select(User.id).where(User.username == name)).first() is None:
                from workflows.org.operations import create_user
                made = create_user(name, name, PASSWORD, db.session.get(Unit, w.city["city"]))
                db.session.add(RoleGrant(user=made, unit_id=w.city["city"], role="office"))
                db.session.commit()
    nominate(w.app, w.city, 1, units=("a1",))
    with w.app.test_request_context():
        root = db.session.get(User, w.ids["root"])
        seat = db.session.get(Unit, w.city["city"])
        made = ballots.create_ballot(root, seat, {
            "month": "2017-03", "rule": "score_sum", "picks": "10", "max_score": "10",
            "deadline": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%d %H:%M")})
        db.session.commit()
        ballot_id = made.id
        if status != "draft":
            ballots.open_ballot(db.session.get(Ballot, ballot_id), root)
        if status == "closed":
            item = db.session.get(Ballot, ballot_id).items[0].id
            for name in ("root", "office.b", "office.c"):
                person = db.session.execute(select(User).where(User.username == name)).scalar_one()
                ballots.record_marks(db.session.get(Ballot, ballot_id), person, {f"item-{item}": "6"})
    w.ids[key] = ballot_id
    return ballot_id


def _ballot_status(status):
    return lambda w: (_ballot(w, status), _get(Ballot, f"ballot_{status}", "status")(w))[1]


def _ballot_item(w):
    return w.read(lambda: db.session.get(Ballot, _ballot(w, "open")).items[0].id)


CASES += [
    Case("ballots.create", "root", lambda w: "/assessment/ballots/",
         lambda w: {"month": "2017-04", "rule": "borda", "picks": "10", "max_score": "10",
                    "deadline": "2099-01-01 17:00", "panel_mode": "role"}, _count(Ballot)),
    Case("ballots.open_", "root", lambda w: f"/assessment/ballots/{_ballot(w, 'draft')}/open",
         lambda w: {"expected_version": 1}, _ballot_status("draft")),
    Case("ballots.mark", "root", lambda w: f"/assessment/ballots/{_ballot(w, 'open')}/marks",
         lambda w: {f"item-{_ballot_item(w)}": "7"},
         lambda w: (_ballot(w, "open"), _count(BallotMark)(w))[1]),
    Case("ballots.confirm", "root", lambda w: f"/assessment/ballots/{_ballot(w, 'closed')}/confirm",
         lambda w: {"expected_version": _get(Ballot, _ballot(w, "closed"), "row_version")(w)},
         _ballot_status("closed")),
]



def _circular(w):
    """A monthly circular for 2017-03 drafted by root at the city office, marked published and naming a1 (not
    yet opened): the draft's routes and the receipts' routes share it (made once, the first time it is needed)."""
    if "circular" not in w.ids:
        from workflows.documents.circulars import composing
        from workflows.models import CircularReceipt
        from workflows.models.units import utcnow
        with w.app.test_request_context():
            made = composing.compose(db.session.get(Unit, w.city["city"]), "monthly", "2017-03",
                                     db.session.get(User, w.ids["root"]))
            made.doc_number, made.published_at, made.signed_on = "测文明办〔2017〕1号", utcnow(), date(2017, 4, 3)
            db.session.add(CircularReceipt(circular_id=made.id, unit_id=w.city["a1"]))
            db.session.commit()
            w.ids["circular"], w.ids["circular_submission"] = made.id, made.submission_id
    return w.ids["circular"]


def _reminded(w):
    from workflows.models import CircularReceipt
    return _get(CircularReceipt, (_circular(w), w.city["a1"]), "reminded_at")(w)


CASES += [
    Case("circular_receipts.remind", "root", lambda w: f"/documents/circulars/{_circular(w)}/remind",
         lambda w: {}, _reminded),
    Case("circulars.new", "root", lambda w: "/documents/circulars/new",
         lambda w: {"office": w.city["city"], "kind": "criticism", "period": "2017-03"}, _count(Circular)),
    Case("circulars.refresh", "root", lambda w: f"/documents/circulars/{_circular(w)}/refresh", lambda w: {},
         lambda w: (_circular(w), _get(Submission, "circular_submission", "row_version")(w))[1]),
    Case("circulars.preview", "root", lambda w: f"/documents/circulars/{_circular(w)}/preview", lambda w: {},
         lambda w: (_circular(w), _count(JobRun, JobRun.kind == "circular_preview")(w))[1]),
]

def _archived(w):
    """The certified report archived by the city office (once, the first time a case needs it)."""
    if "archived" not in w.ids:
        with w.app.test_request_context():
            perform(w.ids["certified"], "archive", db.session.get(User, w.ids["root"]))
        w.ids["archived"] = w.ids["certified"]
    return w.ids["archived"]


CASES += [
    Case("archive.package", "root", lambda w: "/documents/archive/package", lambda w: {"state": "archived"},
         lambda w: (_archived(w), _count(JobRun)(w))[1]),
]


def _case_id(case):
    return case.endpoint


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_a_post_without_the_token_is_refused_and_changes_nothing(world, case):
    client = world.client(case.who)
    before = case.state(world) if case.state else None
    refused = client.post(case.url(world), data=case.data(world))
    assert refused.status_code == 400, refused.get_data(as_text=True)[:500]
    assert EXPIRED in refused.get_data(as_text=True)
    if case.state:
        assert case.state(world) == before
    # A token of another session is no better than none.
    other = world.app.test_client()
    forged = client.post(case.url(world), data=dict(case.data(world), csrf_token=csrf_token(other)))
    assert forged.status_code == 400
    if case.state:
        assert case.state(world) == before
    # Positive control: the same post with the page's token works.
    accepted = client.post(case.url(world), data=dict(case.data(world), csrf_token=csrf_token(client)))
    assert accepted.status_code < 400, accepted.get_data(as_text=True)[:2000]
    if case.state:
        assert case.state(world) != before, "the post with its token changed nothing: the case proves nothing"
    else:
        # The preview of the posted definition, or the case's own answer.
        assert (case.answer or "备注") in accepted.get_data(as_text=True)


def test_every_state_changing_route_is_covered(app):
    """A new POST/PUT/PATCH/DELETE route must get a case above (or an API case below)."""
    pages, api = set(), set()
    for rule in app.url_map.iter_rules():
        if rule.methods & CHANGING:
            (api if rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1" else pages).add(rule.endpoint)
    assert pages == {case.endpoint for case in CASES}
    assert api == set(API_CASES) | {"api.not_found"}


# --- the JSON API with a session -------------------------------------------------------------------

API_CASES = {
    "api.create_submission": lambda w: ("post", "/api/v1/submissions",
                                        {"form": "activity_report", "answers": {"title": "接口草稿"}}),
    "api.update_submission": lambda w: ("patch", f"/api/v1/submissions/{w.ids['draft']}",
                                        {"answers": {"title": "接口改过", "photos": []}, "expected_version": 1}),
    "api.submit": lambda w: ("post", f"/api/v1/submissions/{w.ids['draft']}/submit", {"expected_version": 1}),
    "api.act": lambda w: ("post", f"/api/v1/submissions/{w.ids['submitted']}/actions/approve",
                          {"expected_version": 2, "comment": "同意"}),
}
API_WHO = {"api.act": "reviewer.a"}


def _api_state(w):
    return w.read(lambda: sorted(db.session.execute(select(Submission.id, Submission.state, Submission.row_version,
                                                            Submission.title)).all()))


@pytest.mark.parametrize("endpoint", sorted(API_CASES))
def test_session_api_changes_need_the_fetch_header_or_a_csrf_token(world, endpoint):
    client = world.client(API_WHO.get(endpoint, "filler.a1"))
    method, path, body = API_CASES[endpoint](world)
    before = _api_state(world)
    for headers in ({}, {"X-CSRFToken": "forged"}, {"X-CSRFToken": csrf_token(world.app.test_client())},
                    {"X-Requested-With": "XMLHttpRequest"}):
        refused = getattr(client, method)(path, json=body, headers=headers)
        assert refused.status_code == 403, (headers, refused.get_json())
        assert refused.get_json()["field"] == "X-Requested-With"
        assert _api_state(world) == before
    # Positive control: the page's own token (as the page's scripts send it) is accepted.
    accepted = getattr(client, method)(path, json=body, headers={"X-CSRFToken": csrf_token(client)})
    assert accepted.status_code < 400, accepted.get_json()
    assert _api_state(world) != before


@pytest.mark.parametrize("endpoint", sorted(API_CASES))
def test_session_api_changes_work_with_the_fetch_header(world, endpoint):
    client = world.client(API_WHO.get(endpoint, "filler.a1"))
    method, path, body = API_CASES[endpoint](world)
    before = _api_state(world)
    accepted = getattr(client, method)(path, json=body, headers={"X-Requested-With": "fetch"})
    assert accepted.status_code < 400, accepted.get_json()
    assert _api_state(world) != before


def test_a_bearer_token_needs_no_csrf_token(world):
    """The API is exempt from the form token by design: browsers never send a bearer token on their own."""
    with world.app.app_context():
        plain = issue_token(db.session.get(User, world.ids["filler"]), "脚本")[1]
        db.session.commit()
    before = _api_state(world)
    created = world.app.test_client().post("/api/v1/submissions", headers={"Authorization": f"Bearer {plain}"},
                                           json={"form": "activity_report", "answers": {"title": "脚本草稿"}})
    assert created.status_code == 201, created.get_json()
    assert len(_api_state(world)) == len(before) + 1
