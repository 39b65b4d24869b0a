"""The activity form's theme offers the campaigns open at the activity's date (issue 10, item 1).

activity_report v2 takes its themes from the stored campaigns: a planned
festival is offered only inside its window, a campaign the office added is
offered too, "other" always; a year not planned yet keeps the form's own
list. The label a report shows is pinned when it is saved, so renaming the
campaign later leaves old reports as they were; v1 reports read as before.
"""
import re
from datetime import date

import pytest
from sqlalchemy import select

from forms.answers import validate
from workflows.assessment.campaigns.plans import generate
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.extensions import db
from workflows.models import Campaign, FormVersion, Submission


@pytest.fixture
def forms_installed(app):
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()


def _spec(version=2):
    return db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report",
                                                        FormVersion.version == version)).scalar_one().spec


def _offered(spec, held_on):
    values = {"held_on": date.fromisoformat(held_on)}
    return [c.value for c in spec.fields[0].choices_for(values)]


def test_a_year_not_planned_keeps_the_forms_own_list(app, forms_installed):
    with app.test_request_context():
        assert _offered(_spec(), "2017-03-05") == ["lantern", "leifeng", "qingming", "dragon_boat", "gaokao",
                                                   "mid_autumn", "other"]


def test_planned_campaigns_are_offered_inside_their_windows_only(app, forms_installed):
    with app.app_context():
        generate(2017)
        db.session.add(Campaign(year=2017, key="civic", name_zh="创建文明城市志愿服务", name_en="Civic campaign",
                                node_on=date(2017, 3, 15), window_start=date(2017, 3, 1),
                                window_end=date(2017, 3, 31), forms=["activity_report"], source="office"))
        db.session.commit()
    with app.test_request_context():
        spec = _spec()
        assert _offered(spec, "2017-03-05") == ["leifeng", "other", "civic"]   # 学雷锋 (3/5 ± 7) and the office's
        assert _offered(spec, "2017-02-11") == ["lantern", "other"]           # 元宵节 2017-02-11
        assert _offered(spec, "2017-08-01") == ["other"]
        refused = validate(spec, {"theme": "lantern", "held_on": "2017-03-05"}, today=date(2017, 12, 31))
        assert "theme" in _paths(refused.errors)
        for fits in ("leifeng", "civic", "other"):
            outcome = validate(spec, {"theme": fits, "held_on": "2017-03-05"}, today=date(2017, 12, 31))
            assert "theme" not in _paths(outcome.errors), fits


def _paths(errors):
    if isinstance(errors, dict):
        return set(errors)
    return {getattr(e, "path", None) or e[0] for e in errors}


def test_the_label_is_pinned_when_saved_and_survives_a_rename(app, forms_installed, city, create_user, client,
                                                               login):
    create_user("filler.a1", city["a1"], "filler")
    with app.app_context():
        db.session.add(Campaign(year=2017, key="civic", name_zh="创建文明城市志愿服务", name_en="Civic campaign",
                                node_on=date(2017, 3, 15), window_start=date(2017, 3, 1),
                                window_end=date(2017, 3, 31), forms=["activity_report"], source="office"))
        db.session.commit()
    login("filler.a1")
    page = client.get("/forms/activity_report/new").get_data(as_text=True)
    assert "创建文明城市志愿服务（2017-03-01 – 2017-03-31）" in page and '"windows"' in page
    saved = client.post("/forms/activity_report/new", data={"action": "save", "title": "创城宣传活动",
                                                            "theme": "civic", "held_on": "2017-03-10"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    with app.app_context():
        submission = db.session.execute(select(Submission)).scalar_one()
        assert submission.form_version == 2 and submission.answers["theme"] == "civic"
        assert submission.answers["_labels"]["theme"]["zh"] == "创建文明城市志愿服务"
        campaign = db.session.execute(select(Campaign).where(Campaign.key == "civic")).scalar_one()
        campaign.name_zh = "文明创建集中行动"
        db.session.commit()
        sid = submission.id
    shown = client.get(f"/submissions/{sid}").get_data(as_text=True)
    assert "创建文明城市志愿服务" in shown and "文明创建集中行动" not in shown
