"""Monthly obligations (issue 10): rules in data, who met them, the compliance page, reminders, charts, API.

Submissions are written as rows with the audit events that led to their state (as ``seed_scale``
writes them), so each test decides when a report reached "approved" relative to the deadline.
"""
import io
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.test_api import bearer, builtin, token_for  # noqa: F401 - fixtures
from workflows.assessment.obligations import evaluate
from workflows.assessment.obligations.evaluation import cutoff
from workflows.assessment.obligations.reminders import send_obligation_reminders
from workflows.assessment.obligations.rules import BUILT_IN, load_rules, store
from workflows.assessment.periods import Month, due_for, nth_working_day
from workflows.engine import audit
from workflows.extensions import db
from workflows.models import (AuditEvent, FormVersion, Notification, ObligationReminder, Submission, Unit, User,
                              WorkflowVersion)
from forms.source import DefinitionError

MARCH = Month(2017, 3)
DEADLINE = due_for(MARCH, 5)              # the 5th working day of April 2017
AFTER = cutoff(DEADLINE) + timedelta(days=20)
PATHS = {"activity_report": {"approved": ["submit", "approve"], "submitted": ["submit"],
                             "published": ["submit", "approve", "certify", "archive", "publish"]},
         "exemplar_nomination": {"nominated": ["submit", "nominate"], "submitted": ["submit"]}}
TO = {"submit": "submitted", "approve": "approved", "certify": "certified", "archive": "archived",
      "publish": "published", "nominate": "nominated"}


def put(unit_id, user_id, form, state, reached, period="2017-03", theme="leifeng"):
    """A submission of ``form`` for ``period`` in ``state``, its last event at ``reached``; returns its id."""
    fv = db.session.execute(select(FormVersion).where(FormVersion.key == form)
                            .order_by(FormVersion.version.desc())).scalars().first()
    wf = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.form_key == form)
                            .order_by(WorkflowVersion.version.desc())).scalars().first()
    actions = PATHS[form][state]
    times = [reached - timedelta(minutes=len(actions) - i) for i in range(1, len(actions))] + [reached]
    answers = {"held_on": f"{period}-05", "theme": theme} if form == "activity_report" else {"month": period}
    submission = Submission(form_version_id=fv.id, form_key=form, form_version=fv.version, form_sha256=fv.sha256,
                            unit_id=unit_id, created_by_id=user_id, workflow_version_id=wf.id, state=state,
                            state_since=reached, campaign=theme if form == "activity_report" else "collective",
                            period=period, title="学雷锋", answers=answers, created_at=times[0] - timedelta(hours=1))
    db.session.add(submission)
    db.session.flush()
    prev, current = audit.GENESIS, "draft"
    for seq, (action, at) in enumerate(zip(actions, times), start=1):
        event = AuditEvent(submission_id=submission.id, seq=seq, actor_id=user_id, action=action,
                           from_state=current, to_state=TO[action], form_version=fv.version,
                           workflow_version=wf.version, at=at, prev_hash=prev)
        event.hash = prev = audit.event_hash(prev, event)
        db.session.add(event)
        current = TO[action]
    submission.audit_head = prev
    db.session.commit()
    return submission.id


@pytest.fixture
def town(app, city, create_user, create_unit, builtin):
    """The small city, a volunteer team in district A, a filler at every unit, offices and a reviewer."""
    city["team"] = create_unit(city["a"], name="A区蓝天志愿服务队", kind="team", code="DA-T")
    ids = {name: create_user(f"filler.{name}", city[name], "filler") for name in ("a1", "a2", "b1", "b2", "team")}
    ids["rev_a"] = create_user("rev.a", city["a"], "reviewer")
    ids["office"] = create_user("city.office", city["city"], "office", "reviewer")
    return SimpleNamespace(units=city, users=ids)


def in_march(app, town, **states):
    """unit name → list of (form, state, reached) to write."""
    with app.app_context():
        ids = {}
        for name, items in states.items():
            for form, state, reached in items:
                ids.setdefault(name, []).append(put(town.units[name], town.users[name], form, state, reached))
        return ids


# --- evaluation ------------------------------------------------------------------------------------------------

def test_one_approved_report_is_met_and_no_nomination_is_missing(app, town):
    ids = in_march(app, town, a1=[("activity_report", "approved", datetime(2017, 3, 20, 10))])
    with app.app_context():
        cells = evaluate("2017-03", now=AFTER)
    a1 = town.units["a1"]
    assert cells[(a1, "activity")].status == "met"
    assert cells[(a1, "activity")].count == 1 and cells[(a1, "activity")].sources == tuple(ids["a1"])
    assert cells[(a1, "nomination")].status == "missing" and cells[(a1, "nomination")].count == 0
    assert cells[(town.units["a2"], "activity")].status == "missing"
    assert cells[(a1, "activity")].deadline == DEADLINE and cells[(a1, "activity")].rule_version == 1
    # Offices owe nothing.
    assert (town.units["a"], "activity") not in cells


def test_a_report_approved_after_the_deadline_is_late_and_one_still_submitted_is_pending(app, town):
    in_march(app, town, a1=[("activity_report", "published", cutoff(DEADLINE) + timedelta(hours=2))],
             a2=[("activity_report", "submitted", datetime(2017, 3, 28))],
             b1=[("exemplar_nomination", "nominated", cutoff(DEADLINE) - timedelta(hours=1))])
    with app.app_context():
        cells = evaluate(MARCH, now=AFTER)
    assert cells[(town.units["a1"], "activity")].status == "late"
    assert cells[(town.units["a2"], "activity")].status == "pending"
    assert cells[(town.units["b1"], "nomination")].status == "met"


def test_before_the_deadline_a_missing_cell_is_still_open(app, town):
    with app.app_context():
        cells = evaluate(MARCH, unit_ids=[town.units["a1"]], now=datetime(2017, 4, 1, 9))
    cell = cells[(town.units["a1"], "activity")]
    assert set(cells) == {(town.units["a1"], "activity"), (town.units["a1"], "nomination")}
    assert cell.status == "missing" and cell.open
    with app.app_context():
        assert not evaluate(MARCH, unit_ids=[town.units["a1"]], now=AFTER)[(town.units["a1"], "activity")].open


def test_a_rules_version_with_per_kind_overrides_is_used_and_named(app, town):
    source = BUILT_IN.read_text(encoding="utf-8").replace("version: 1", "version: 2").replace(
        "    due_working_day: 5\n", "    due_working_day: 5\n    by_kind: {team: {at_least: 0}, civilized_unit: {at_least: 2}}\n", 2)
    in_march(app, town, a1=[("activity_report", "approved", datetime(2017, 3, 20))],
             team=[("activity_report", "approved", datetime(2017, 3, 21))])
    with app.app_context():
        store(source)
        db.session.commit()
        cells = evaluate(MARCH, now=AFTER)
    # Teams owe nothing under these rules; a civilized unit owes two reports and has one.
    assert (town.units["team"], "nomination") not in cells and (town.units["team"], "activity") not in cells
    assert cells[(town.units["a1"], "activity")].status == "missing"
    assert cells[(town.units["a1"], "activity")].needed == 2 and cells[(town.units["a1"], "activity")].count == 1
    assert cells[(town.units["a1"], "activity")].rule_version == 2


def test_a_rules_file_with_mistakes_is_refused_at_its_keys(app, tmp_path):
    bad = BUILT_IN.read_text(encoding="utf-8").replace("    at_least: 1\n    met: [nominated",
                                                       "    at_least: 0\n    met: [nominated")
    with pytest.raises(DefinitionError) as caught:
        load_rules(bad)
    assert [p.path for p in caught.value.problems] == ["obligations[1].at_least"]
    assert caught.value.problems[0].line == bad.splitlines().index("    at_least: 0") + 1
    path = tmp_path / "rules.yaml"
    path.write_text(BUILT_IN.read_text(encoding="utf-8").replace("unit_kinds: [civilized_unit",
                                                                 "unit_kinds: [school"), encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["obligations", "check", str(path)])
    assert result.exit_code == 1 and "unit_kinds[0]: unknown unit kind 'school'" in result.output
    # A state no workflow of the form has is refused on load, and nothing is stored.
    path.write_text(BUILT_IN.read_text(encoding="utf-8").replace("version: 1", "version: 2")
                    .replace("[approved, certified", "[approved, certifed"), encoding="utf-8")
    with app.app_context():
        from workflows.demo.city import install_builtin_forms, install_builtin_workflows
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    result = runner.invoke(args=["obligations", "load", str(path)])
    assert result.exit_code == 1 and "obligations[0].met[1]: no workflow of 'activity_report' has a state 'certifed'" \
        in result.output
    ok = runner.invoke(args=["obligations", "load", str(BUILT_IN)])
    assert ok.exit_code == 0 and "loaded monthly_obligations v1" in ok.output
    with app.app_context():
        from workflows.models import ObligationRuleVersion
        assert db.session.execute(select(func.count()).select_from(ObligationRuleVersion)).scalar() == 1


def test_a_nomination_belongs_to_the_month_it_names(app, client, town):
    plain = token_for(app, town.users["a1"])
    response = client.post("/api/v1/submissions", headers=bearer(plain), json={
        "form": "exemplar_nomination", "unit": town.units["a1"], "answers": {"kind": "collective", "month": "2017-03"}})
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.get(Submission, response.get_json()["id"]).period == "2017-03"


# --- reminders -------------------------------------------------------------------------------------------------

def test_reminders_go_once_to_the_fillers_of_units_still_missing(app, town):
    in_march(app, town, a1=[("activity_report", "approved", datetime(2017, 3, 20))],
             b1=[("activity_report", "submitted", datetime(2017, 3, 28))])
    first_working_day = nth_working_day(MARCH.next(), 1)    # 3 working days before the 5th: not yet
    with app.app_context():
        assert send_obligation_reminders(None, today=(DEADLINE - timedelta(days=30)).isoformat()) == 0
        assert send_obligation_reminders(None, today=first_working_day.isoformat()) == 0
        first = send_obligation_reminders(None, today=DEADLINE.isoformat())
        again = send_obligation_reminders(None, today=DEADLINE.isoformat())
        got = {}
        for user_id, text in db.session.execute(select(Notification.user_id, Notification.text)
                                                .where(Notification.kind == "obligation_reminder")):
            got.setdefault(user_id, []).append(text)
        reminders = db.session.execute(select(func.count()).select_from(ObligationReminder)).scalar()
    assert again == 0 and first == sum(len(v) for v in got.values())
    users = town.users
    assert len(got[users["a1"]]) == 1 and "典型推荐" in got[users["a1"]][0]     # met the report already
    assert len(got[users["a2"]]) == 2
    assert len(got[users["b1"]]) == 1 and "典型推荐" in got[users["b1"]][0]     # its report is under review
    assert users["rev_a"] not in got and reminders == first


def test_a_reminder_reads_in_its_readers_language(app, client, login, town):
    with app.app_context():
        assert send_obligation_reminders(None, today=DEADLINE.isoformat()) > 0
        english = db.session.get(User, town.users["b1"])
        english.language = "en"
        db.session.commit()
    login("filler.a2")
    home = client.get("/").get_data(as_text=True)
    assert f"{MARCH} 的“典型推荐”本单位尚未报送，截止日期为 {DEADLINE.isoformat()}，请及时报送。" in home
    client.post("/logout")
    login("filler.b1")
    home = client.get("/").get_data(as_text=True)
    assert (f"{MARCH}: “Exemplar nomination” is still missing for your unit; it is due by {DEADLINE.isoformat()}."
            in home)
    assert "典型推荐" not in home


def test_the_reminder_days_are_a_setting(app, town):
    app.config["OBLIGATION_REMINDER_DAYS"] = 4
    with app.app_context():
        assert send_obligation_reminders(None, today=nth_working_day(MARCH.next(), 1).isoformat()) > 0


# --- pages -----------------------------------------------------------------------------------------------------

def test_a_district_sees_only_its_units_with_the_right_shares(app, client, login, town):
    in_march(app, town, a1=[("activity_report", "approved", datetime(2017, 3, 20))],
             b1=[("activity_report", "approved", datetime(2017, 3, 20))])
    login("rev.a")
    page = client.get("/assessment/compliance?year=2017&month=3")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "A区单位1" in html and "A区单位2" in html and "A区蓝天志愿服务队" in html
    assert "B区单位1" not in html and "B区文明办" not in html
    # Three units in district A, one met its report: 33.3 %; none met a nomination.
    assert "33.3 %" in html and "0.0 %" in html
    assert "达标" in html and "缺报" in html
    missing = client.get("/assessment/compliance?year=2017&month=3&status=met").get_data(as_text=True)
    assert "A区单位1" in missing and "A区单位2" not in missing
    other = client.get(f"/assessment/compliance?year=2017&month=3&district={town.units['b']}").get_data(as_text=True)
    assert "B区单位1" not in other
    bad = client.get("/assessment/compliance?year=20x7&month=3")
    assert bad.status_code == 200 and "20x7" in bad.get_data(as_text=True)
    assert "四位数字" in bad.get_data(as_text=True)


def test_the_export_keeps_a_formula_like_unit_name_as_text(app, client, login, town):
    with app.app_context():
        db.session.get(Unit, town.units["a1"]).name = '=HYPERLINK("http://evil.example","点我")'
        db.session.commit()
    in_march(app, town, a1=[("activity_report", "approved", datetime(2017, 3, 20))])
    login("city.office")
    response = client.get("/assessment/compliance.xlsx?year=2017&month=3")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/vnd.openxml")
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows())
    names = {row[1].value: row for row in rows[1:]}
    evil = names['=HYPERLINK("http://evil.example","点我")']
    assert evil[1].data_type == "s"
    assert evil[4].value.startswith("达标") and evil[5].value.startswith("缺报")
    assert "B区单位1" in names and len(rows) == 1 + 5


def test_a_filler_gets_no_office_pages(app, client, login, town):
    login("filler.a1")
    for path in ("/assessment/compliance", "/assessment/compliance.xlsx", "/assessment/charts",
                 "/assessment/charts/themes.svg"):
        assert client.get(path).status_code == 403, path
    assert client.get(f"/assessment/units/{town.units['b1']}").status_code == 404
    assert client.get(f"/assessment/units/{town.units['a1']}?year=2017").status_code == 200
    login("rev.a")
    assert client.get(f"/assessment/units/{town.units['b1']}").status_code == 404


def _table(html, name):
    start = html.index(f'data-chart="{name}"')
    return html[start:html.index("</table>", start)]


def test_charts_are_svg_without_script_and_the_tables_hold_the_same_numbers(app, client, login, town):
    in_march(app, town, a1=[("activity_report", "approved", datetime(2017, 3, 20), )],
             b1=[("activity_report", "published", datetime(2017, 3, 25)),
                 ("exemplar_nomination", "nominated", datetime(2017, 3, 26))])
    with app.app_context():
        put(town.units["b2"], town.users["b2"], "activity_report", "approved", datetime(2017, 3, 20),
            theme="qingming")
    login("city.office")
    page = client.get("/assessment/charts?year=2017")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script>" not in html.replace('<script src=', '')
    # District A: 1 of 3 units met in March → 33.3; district B: 2 of 2 → 100.0.
    participation = _table(html, "participation")
    assert "33.3" in participation and "100.0" in participation
    themes = _table(html, "themes")
    assert "学雷锋纪念日</td><td>2" in themes and "清明节</td><td>1" in themes
    for name in ("participation", "obligations", "themes"):
        svg = client.get(f"/assessment/charts/{name}.svg?year=2017")
        body = svg.get_data(as_text=True)
        assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
        assert "<script" not in body.lower() and body.startswith("<svg")
        assert "script-src" not in svg.headers["Content-Security-Policy"]
        assert "default-src 'none'" in svg.headers["Content-Security-Policy"]
    assert ">33.3<" in client.get("/assessment/charts/participation.svg?year=2017").get_data(as_text=True)
    theme_svg = client.get("/assessment/charts/themes.svg?year=2017").get_data(as_text=True)
    assert "学雷锋纪念日" in theme_svg
    unit = client.get(f"/assessment/units/{town.units['b1']}?year=2017").get_data(as_text=True)
    trend = _table(unit, "trend")
    assert trend.count("<td") == 24 and 'data-status="met">1 ' in trend
    svg = client.get(f"/assessment/units/{town.units['b1']}/trend.svg?year=2017").get_data(as_text=True)
    assert "<script" not in svg.lower() and ">1<" in svg


# --- API -------------------------------------------------------------------------------------------------------

def test_the_api_gives_the_callers_units_cells(app, client, town):
    in_march(app, town, a1=[("activity_report", "approved", datetime(2017, 3, 20))])
    office = token_for(app, town.users["office"])
    body = client.get("/api/v1/obligations?year=2017&month=3", headers=bearer(office)).get_json()
    cells = {(i["unit"]["id"], i["obligation"]): i for i in body["items"]}
    assert body["period"] == "2017-03" and body["rules"]["version"] == 1
    assert cells[(town.units["a1"], "activity")]["status"] == "met"
    assert cells[(town.units["a1"], "activity")]["sources"] and cells[(town.units["b2"], "activity")]["status"] == "missing"
    filler = token_for(app, town.users["a1"])
    mine = client.get("/api/v1/obligations?year=2017&month=3", headers=bearer(filler)).get_json()
    assert {i["unit"]["id"] for i in mine["items"]} == {town.units["a1"]}
    assert client.get("/api/v1/obligations?year=2017&month=13", headers=bearer(filler)).status_code == 400
    assert client.get("/api/v1/obligations?year=2017", headers=bearer(filler)).status_code == 400
    assert client.get("/api/v1/obligations?year=2017&month=3").status_code == 401


def test_the_kept_tallies_follow_new_transitions_and_a_fresh_database(app, town, create_unit):
    """The city-wide table reads tallies kept between requests: a new approval shows at once."""
    from workflows.assessment.obligations.evaluation import evaluate_grid, participating_units
    from workflows.assessment.obligations import rules as rules_module
    in_march(app, town, a1=[("activity_report", "approved", datetime(2017, 3, 20))])
    with app.app_context():
        rules = rules_module.current()
        many = [(u, "civilized_unit") for u in range(10_000, 10_060)]   # more than DIRECT: the kept tallies
        units = list(participating_units(rules)) + many

        def status(name, key="activity"):
            return evaluate_grid([MARCH], units, now=AFTER, rules=rules).cells[town.units[name]][(key, "2017-03")].status

        assert status("a1") == "met" and status("a2") == "missing"
        put(town.units["a2"], town.users["a2"], "activity_report", "approved", datetime(2017, 3, 21))
        assert status("a2") == "met" and status("a1") == "met"
        put(town.units["b1"], town.users["b1"], "exemplar_nomination", "submitted", datetime(2017, 3, 22))
        assert status("b1", "nomination") == "pending"
