"""Campaigns (节点): computed dates, the CLI, the stored plan, the office's pages, the home page, the API."""
from datetime import date, timedelta

import lunardate
import pytest
from sqlalchemy import select

from workflows.api import issue_token
from workflows.assessment.campaigns import lunar
from workflows.assessment.campaigns.nodes import YearOutOfRange, calendar_lines, nodes_for
from workflows.assessment.campaigns.plans import generate, open_on
from workflows.assessment.obligations import due_this_month
from workflows.assessment.periods import Month, due_for
from workflows.extensions import db
from workflows.models import Campaign, Unit, User


def _dates(year):
    return {n.key: n.node_on for n in nodes_for(year)}


@pytest.mark.parametrize("year, expected", [
    (2017, {"lantern": date(2017, 2, 11), "leifeng": date(2017, 3, 5), "qingming": date(2017, 4, 4),
            "dragon_boat": date(2017, 5, 30), "gaokao": date(2017, 6, 7), "mid_autumn": date(2017, 10, 4)}),
    (2026, {"lantern": date(2026, 3, 3), "leifeng": date(2026, 3, 5), "qingming": date(2026, 4, 5),
            "dragon_boat": date(2026, 6, 19), "gaokao": date(2026, 6, 7), "mid_autumn": date(2026, 9, 25)}),
])
def test_the_nodes_fall_on_the_festivals(year, expected):
    assert _dates(year) == expected


def test_windows_run_a_week_either_side_and_gaokao_covers_both_days():
    nodes = {n.key: n for n in nodes_for(2026)}
    assert (nodes["lantern"].window_start, nodes["lantern"].window_end) == (date(2026, 2, 24), date(2026, 3, 10))
    assert (nodes["gaokao"].window_start, nodes["gaokao"].window_end) == (date(2026, 5, 31), date(2026, 6, 15))
    assert nodes["qingming"].topics[0] == "remembrance" and nodes["gaokao"].topics == ["exam_care"]


@pytest.mark.parametrize("year", [1950, 2100])
def test_the_first_and_last_years_work(year):
    nodes = nodes_for(year)
    assert [n.key for n in sorted(nodes, key=lambda n: n.key)] == sorted(
        ["lantern", "leifeng", "qingming", "dragon_boat", "gaokao", "mid_autumn"])
    for n in nodes:
        assert n.node_on.year == year and n.window_start <= n.node_on <= n.window_end
    # Lunar 1/15 is 14 days after the new year; the festival lies between late January and early March.
    lantern = _dates(year)["lantern"]
    assert date(year, 2, 1) <= lantern <= date(year, 3, 8)


def test_lunar_year_2100_follows_the_end_of_the_tables():
    """lunardate stops at lunar 2099: 2100's new year is the day after its last day."""
    last_day = max(d for d in (lunardate.LunarDate(2099, 12, 29), lunardate.LunarDate(2099, 12, 30))
                   if _valid(d))
    assert lunar.to_solar(2100, 1, 1) == last_day.to_solar_date() + timedelta(days=1)


def _valid(lunar_day):
    try:
        lunar_day.to_solar_date()
    except ValueError:
        return False
    return True


def test_the_astronomical_computation_agrees_with_the_tables():
    """The fallback used for 2100 gives the official dates wherever lunardate has them (1990–2099)."""
    wrong = [(y, m, d) for y in range(1990, 2100) for m, d in ((1, 15), (5, 5), (8, 15))
             if lunar.computed_to_solar(y, m, d) != lunardate.LunarDate(y, m, d).to_solar_date()]
    assert wrong == []


@pytest.mark.parametrize("year", [1949, 2101, 0])
def test_years_outside_the_range_are_refused(year):
    with pytest.raises(YearOutOfRange):
        nodes_for(year)


def test_the_calendar_command_prints_one_node_a_line(app):
    result = app.test_cli_runner().invoke(args=["campaigns", "calendar", "2026"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "2026-03-03 lantern 元宵节 2026-02-24..2026-03-10",
        "2026-03-05 leifeng 学雷锋纪念日 2026-02-26..2026-03-12",
        "2026-04-05 qingming 清明节 2026-03-29..2026-04-12",
        "2026-06-07 gaokao 高考 2026-05-31..2026-06-15",
        "2026-06-19 dragon_boat 端午节 2026-06-12..2026-06-26",
        "2026-09-25 mid_autumn 中秋节 2026-09-18..2026-10-02",
    ]
    assert calendar_lines(2026) == result.output.splitlines()


def test_the_calendar_command_refuses_a_year_outside_the_range(app):
    result = app.test_cli_runner().invoke(args=["campaigns", "calendar", "2101"])
    assert result.exit_code != 0
    assert "between 1950 and 2100" in result.output
    assert "2101-" not in result.output


def _plan(app, year):
    with app.app_context():
        return {c.key: (c.name_zh, c.window_start, c.window_end, c.source)
                for c in db.session.execute(select(Campaign).where(Campaign.year == year)).scalars()}


def test_generate_is_idempotent_and_keeps_the_offices_edits(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["campaigns", "generate", "2026"]).exit_code == 0
    first = _plan(app, 2026)
    assert len(first) == 6 and first["lantern"][1:] == (date(2026, 2, 24), date(2026, 3, 10), "generated")
    with app.app_context():
        lantern = db.session.execute(select(Campaign).where(Campaign.key == "lantern")).scalar_one()
        lantern.window_end, lantern.name_zh = date(2026, 3, 15), "元宵节·邻里守望"
        db.session.delete(db.session.execute(select(Campaign).where(Campaign.key == "gaokao")).scalar_one())
        db.session.commit()
    result = runner.invoke(args=["campaigns", "generate", "2026"])
    assert result.exit_code == 0 and "1 added (gaokao)" in result.output
    again = _plan(app, 2026)
    assert again["lantern"] == ("元宵节·邻里守望", date(2026, 2, 24), date(2026, 3, 15), "generated")
    assert set(again) == set(first)
    assert runner.invoke(args=["campaigns", "generate", "1949"]).exit_code != 0


# --- pages -------------------------------------------------------------------------------------------

@pytest.fixture
def people(city, create_user):
    return {
        "office": create_user("city.office", city["city"], "office"),
        "admin_a": create_user("admin.a", city["a"], "admin", "office"),
        "filler": create_user("filler.a1", city["a1"], "filler"),
        "nobody": create_user("nobody", city["a1"]),
    }


def _signed_in(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "correct-horse-1"}).status_code == 302
    return client


def test_the_office_generates_the_plan_from_the_page(app, people):
    client = _signed_in(app, "city.office")
    assert "尚未安排" in client.get("/assessment/campaigns/?year=2017").get_data(as_text=True)
    response = client.post("/assessment/campaigns/generate?year=2017", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "元宵节" in page and "2017-02-04 – 2017-02-18" in page
    assert len(_plan(app, 2017)) == 6


def test_the_office_edits_a_campaign_and_sees_errors_at_the_field(app, people, city):
    with app.app_context():
        generate(2026)
        db.session.commit()
        lantern_id = db.session.execute(select(Campaign.id).where(Campaign.key == "lantern")).scalar_one()
    client = _signed_in(app, "city.office")
    url = f"/assessment/campaigns/{lantern_id}"
    bad = {"name_zh": "元宵节", "node_on": "2026-03-03", "window_start": "2026-03-04", "window_end": "2026-03-01",
           "theme": "我改过的主题", "topics": ["warmth"], "unit_kinds": ["community"], "forms": ["activity_report"]}
    refused = client.post(url, data=bad)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "窗口开始日期不能晚于节点日期。" in page
    assert "我改过的主题" in page and 'value="2026-03-04"' in page
    assert _plan(app, 2026)["lantern"][1:3] == (date(2026, 2, 24), date(2026, 3, 10))
    good = dict(bad, window_start="2026-02-20", window_end="2026-03-12", lead_unit_ids=[str(city["a1"])])
    assert client.post(url, data=good).status_code == 302
    with app.app_context():
        lantern = db.session.get(Campaign, lantern_id)
        assert (lantern.window_start, lantern.window_end, lantern.theme) == (date(2026, 2, 20), date(2026, 3, 12),
                                                                              "我改过的主题")
        assert lantern.unit_kinds == ["community"] and lantern.lead_unit_ids == [city["a1"]]
        assert lantern.updated_by_id == people["office"]
    listing = client.get("/assessment/campaigns/?year=2026").get_data(as_text=True)
    assert "A区单位1" in listing


def test_the_office_adds_its_own_campaign(app, people):
    client = _signed_in(app, "city.office")
    data = {"key": "Bad Key", "name_zh": "全国助残日", "name_en": "", "node_on": "2026-05-17",
            "window_start": "2026-05-10", "window_end": "2026-05-24", "theme": "扶残助残", "topics": ["warmth"],
            "unit_kinds": ["community"], "forms": ["activity_report"]}
    refused = client.post("/assessment/campaigns/new?year=2026", data=data)
    assert refused.status_code == 200 and "全国助残日" in refused.get_data(as_text=True)
    assert _plan(app, 2026) == {}
    wrong_year = client.post("/assessment/campaigns/new?year=2026", data=dict(data, key="disability_day",
                                                                              node_on="2027-05-17"))
    assert wrong_year.status_code == 200 and _plan(app, 2026) == {}
    assert client.post("/assessment/campaigns/new?year=2026", data=dict(data, key="disability_day")
                       ).status_code == 302
    assert _plan(app, 2026)["disability_day"] == ("全国助残日", date(2026, 5, 10), date(2026, 5, 24), "office")
    again = client.post("/assessment/campaigns/new?year=2026", data=dict(data, key="disability_day"))
    assert again.status_code == 200 and len(_plan(app, 2026)) == 1


def test_only_the_city_office_changes_the_plan(app, people):
    with app.app_context():
        generate(2026)
        db.session.commit()
        lantern_id = db.session.execute(select(Campaign.id).where(Campaign.key == "lantern")).scalar_one()
    for who in ("admin.a", "filler.a1"):
        client = _signed_in(app, who)
        assert client.get("/assessment/campaigns/?year=2026").status_code == 200
        assert "campaigns/generate" not in client.get("/assessment/campaigns/?year=2026").get_data(as_text=True)
        assert client.post("/assessment/campaigns/generate?year=2027").status_code == 403
        assert client.get(f"/assessment/campaigns/{lantern_id}").status_code == 403
        assert client.post(f"/assessment/campaigns/{lantern_id}", data={"name_zh": "改"}).status_code == 403
        assert client.post("/assessment/campaigns/new?year=2026", data={"key": "x"}).status_code == 403
    assert _plan(app, 2027) == {} and _plan(app, 2026)["lantern"][0] == "元宵节"
    assert _signed_in(app, "nobody").get("/assessment/campaigns/").status_code == 403


def test_campaigns_open_on_a_day_inside_their_window(app):
    with app.app_context():
        generate(2026)
        db.session.commit()
        assert [c.key for c in open_on(date(2026, 3, 4))] == ["lantern", "leifeng"]
        assert [c.key for c in open_on(date(2026, 6, 14), "team")] == ["gaokao", "dragon_boat"]
        assert open_on(date(2026, 7, 15)) == []


def test_the_home_page_says_what_is_due_this_month(app, people, city):
    today = date.today()
    with app.app_context():
        db.session.add(Campaign(year=today.year, key="this_month", name_zh="本月主题活动", name_en="This month",
                                node_on=today, window_start=today, window_end=today, unit_kinds=["civilized_unit"],
                                topics=[], forms=["activity_report"], lead_unit_ids=[], theme=""))
        db.session.commit()
        unit = db.session.get(Unit, city["a1"])
        due = due_this_month(unit, today)
        assert due["due_on"] == due_for(Month.of(today), 5) and [c.key for c in due["campaigns"]] == ["this_month"]
        assert [(label.zh, count, needed, status) for label, count, needed, status, _ in due["items"]] == [
            ("活动报送", 0, 1, "missing"), ("典型推荐", 0, 1, "missing")]
    page = _signed_in(app, "filler.a1").get("/").get_data(as_text=True)
    assert "本月主题活动" in page and due["due_on"].isoformat() in page
    assert "活动报送：已报 0 / 应报 1" in page and "尚未报送" in page
    assert due["due_on"].isoformat() not in _signed_in(app, "city.office").get("/").get_data(as_text=True)


def test_the_api_lists_a_years_campaigns(app, people):
    with app.app_context():
        generate(2017)
        db.session.commit()
        plain = issue_token(db.session.get(User, people["filler"]), "脚本")[1]
        db.session.commit()
    client = app.test_client()
    answer = client.get("/api/v1/campaigns?year=2017", headers={"Authorization": f"Bearer {plain}"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert [c["key"] for c in body["campaigns"]][:2] == ["lantern", "leifeng"]
    assert body["campaigns"][0]["node_on"] == "2017-02-11" and body["campaigns"][0]["name"]["zh"] == "元宵节"
    assert client.get("/api/v1/campaigns?year=2017").status_code == 401
    assert client.get("/api/v1/campaigns?year=3000", headers={"Authorization": f"Bearer {plain}"}).status_code == 400
