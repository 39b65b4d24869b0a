"""Unit scores (issue 10, item 3): rules in data → points, each explained by its source; versions kept apart."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from forms.source import DefinitionError
from workflows.assessment import scores
from workflows.assessment.periods import Month
from workflows.assessment.scoring_rules import load_scoring
from workflows.demo.city import install_builtin_forms
from workflows.extensions import db
from workflows.models import FormVersion, ScoreLine, ServiceRecord, Submission, UnitScore, User, Volunteer

MARCH = Month(2017, 3)
RULES = scores.BUILTIN.read_text(encoding="utf-8")


@pytest.fixture
def without_obligations():
    """Rules other than the obligations' own, tested alone: no cell counts as missed or late."""
    from workflows.assessment import obligations
    scores.install_obligations(scores._no_obligations)
    yield
    scores.install_obligations(obligations.evaluate_many)


@pytest.fixture
def world(app, city, create_user, without_obligations):
    with app.app_context():
        install_builtin_forms()
        db.session.commit()
    return {"city": city, "filler": create_user("filler.a1", city["a1"], "filler")}


def _submission(world, unit, form_key, state, period=None, campaign=None, photos=0, month=None):
    form = db.session.execute(select(FormVersion).where(FormVersion.key == form_key)
                                   .order_by(FormVersion.version.desc())).scalars().first()
    answers = {"photos": [{"id": f"p{i}"} for i in range(photos)]}
    if month:
        answers["month"] = month
    submission = Submission(definition=form, form_key=form_key, form_version=form.version, form_sha256=form.sha256,
                            unit_id=world["city"][unit], created_by_id=world["filler"], state=state, period=period,
                            campaign=campaign, answers=answers, row_version=1, title=f"{form_key} {state}",
                            image_count=photos)  # as summarise() keeps it on save
    db.session.add(submission)
    db.session.flush()
    return submission.id


def _hours(world, unit, hours, day):
    source = _submission(world, unit, "activity_report", "certified", period=day[:7])
    person = Volunteer(id_hash=f"h{source}", id_enc="x", id_masked="*" * 14 + "0000", name="某", sex="male",
                       birth_month="1990-01", number=f"N{source}", city_id=world["city"]["city"])
    db.session.add(person)
    db.session.flush()
    form = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                   .order_by(FormVersion.version.desc())).scalars().first()
    db.session.add(ServiceRecord(record_key=f"k{source}", volunteer_id=person.id, submission_id=source,
                                 form_version_id=form.id, form_version=form.version, roster_row=0,
                                 activity_name="活动", held_on=date.fromisoformat(day), reported_hours=hours,
                                 hours=hours, organising_unit_id=world["city"][unit], certifier_id=world["filler"],
                                 certified_at=date.fromisoformat(day), change="certify",
                                 changed_by_id=world["filler"]))
    return source


def _lines(version_id, unit_id, month="2017-03"):
    return [(line.rule_key, line.points, line.source_kind, line.source_id, line.source_ref)
            for line in db.session.execute(select(ScoreLine).where(
                ScoreLine.scoring_version_id == version_id, ScoreLine.unit_id == unit_id,
                ScoreLine.month == month).order_by(ScoreLine.position)).scalars()]


def _total(version_id, unit_id, month="2017-03"):
    return db.session.execute(select(UnitScore.points).where(
        UnitScore.scoring_version_id == version_id, UnitScore.unit_id == unit_id,
        UnitScore.month == month)).scalar_one()


class Cell:
    def __init__(self, status, sources=()):
        self.status, self.sources = status, list(sources)


def test_each_rule_gives_its_points_and_names_its_source(app, world):
    with app.app_context():
        a1, a2 = world["city"]["a1"], world["city"]["a2"]
        plain = [_submission(world, "a1", "activity_report", "approved", "2017-03", "other") for _ in range(3)]
        festival = _submission(world, "a1", "activity_report", "published", "2017-03", "leifeng", photos=3)
        thin = _submission(world, "a2", "activity_report", "archived", "2017-03", "qingming", photos=2)
        _submission(world, "a2", "activity_report", "submitted", "2017-03", "leifeng", photos=5)  # not counted
        _submission(world, "a2", "activity_report", "approved", "2017-04", "leifeng", photos=5)   # April
        top = _submission(world, "a1", "exemplar_nomination", "selected", month="2017-03")
        _submission(world, "a2", "exemplar_nomination", "not_selected", month="2017-03")
        records = _hours(world, "a2", Decimal("250"), "2017-03-05")
        scores.install_obligations(lambda months, units: {
            (a2, "nomination", "2017-03"): Cell("missing"), (a1, "report", "2017-03"): Cell("met", plain),
            (a2, "report", "2017-03"): Cell("late", [thin])})
        written = scores.recompute([MARCH])
        version = scores.current_version().id
        # a1: the cap keeps 3 of its 4 reports at 2 points; the festival report with 3 photos +1; top ten +5.
        assert _lines(version, a1) == [
            ("report", Decimal("2.00"), "submission", plain[0], None),
            ("report", Decimal("2.00"), "submission", plain[1], None),
            ("report", Decimal("2.00"), "submission", plain[2], None),
            ("festival", Decimal("1.00"), "submission", festival, None),
            ("top_ten", Decimal("5.00"), "submission", top, None)]
        assert _total(version, a1) == Decimal("12.00")
        # a2: one report (2 photos: no festival point, and the certified activity counts too), 250 hours → 2,
        # a missed nomination −5, a late report −1.
        lines = _lines(version, a2)
        assert [l[0] for l in lines] == ["report", "report", "hours", "missed", "late"]
        assert {l[3] for l in lines if l[0] == "report"} == {thin, records}
        assert lines[2][:3] == ("hours", Decimal("2.00"), "records")
        assert lines[3] == ("missed", Decimal("-5.00"), "obligation", None, "nomination")
        assert lines[4] == ("late", Decimal("-1.00"), "obligation", thin, "report")
        assert _total(version, a2) == 0
        # Every participating unit has a row for the month, even with nothing to its name.
        assert _total(version, world["city"]["b1"]) == Decimal("0.00")
        assert written["scores"] == db.session.execute(select(UnitScore)).all().__len__()


def test_the_same_facts_give_the_same_table_and_a_new_version_keeps_the_old_one(app, world):
    with app.app_context():
        for _ in range(2):
            _submission(world, "a1", "activity_report", "approved", "2017-03", "leifeng", photos=4)
        scores.recompute([MARCH])
        old = scores.current_version().id

        def table(version_id):
            return sorted((s.unit_id, s.month, s.points) for s in db.session.execute(
                select(UnitScore).where(UnitScore.scoring_version_id == version_id)).scalars())
        first = table(old), _lines(old, world["city"]["a1"])
        scores.recompute([MARCH])
        assert (table(old), _lines(old, world["city"]["a1"])) == first
        richer = load_scoring(RULES.replace("version: 1", "version: 2").replace(
            "fact: approved_report, points: 2", "fact: approved_report, points: 3"))
        scores.recompute([MARCH], richer)
        new = scores.current_version().id
        assert new != old
        assert _total(new, world["city"]["a1"]) == Decimal("8.00")   # 2 × 3 + 2 × 1
        assert table(old) == first[0]                                 # the old table stays as it was
        assert _total(old, world["city"]["a1"]) == Decimal("6.00")
        # The same key and version with other rules is refused: a change needs a new version.
        with pytest.raises(ValueError):
            scores.recompute([MARCH], load_scoring(RULES.replace("points: 5", "points: 6")))


def test_the_year_table_ranks_and_warns_below_the_threshold(app, world):
    with app.app_context():
        for month in ("2017-01", "2017-02", "2017-03"):
            for _ in range(3):
                _submission(world, "a1", "activity_report", "approved", month, "other")
        _submission(world, "a2", "activity_report", "approved", "2017-01", "other")
        _submission(world, "b1", "activity_report", "approved", "2017-02", "other")
        scores.recompute_year(2017)
        table = scores.year_table(2017, scores.current_version())
        by_unit = {s.unit_id: s for s in table}
        city = world["city"]
        assert by_unit[city["a1"]].points == Decimal("18.00") and by_unit[city["a1"]].rank == 1
        assert not by_unit[city["a1"]].warned                      # 18 ≥ 12
        assert by_unit[city["a2"]].rank == by_unit[city["b1"]].rank == 2  # equal points share a rank
        assert by_unit[city["a2"]].warned and by_unit[city["b2"]].warned
        assert by_unit[city["b2"]].rank == 4


@pytest.mark.parametrize("change, where", [
    ("fact: approved_report", "rules[0].fact"),
    ("per_hours: 100", "rules[2]"),
    ("key: festival", "rules[1].key"),
])
def test_a_bad_scoring_definition_is_refused_at_its_key(change, where):
    bad = {"fact: approved_report": "fact: approved_reports", "per_hours: 100": "min_photos: 3",
           "key: festival": "key: report"}[change]
    with pytest.raises(DefinitionError) as refused:
        load_scoring(RULES.replace(change, bad, 1))
    assert any(p.path.startswith(where) for p in refused.value.problems), str(refused.value)


def test_the_pages_show_the_table_and_explain_each_point(app, world, client, login, create_user):
    with app.app_context():
        report = _submission(world, "a1", "activity_report", "approved", "2017-03", "leifeng", photos=3)
        db.session.commit()
    create_user("office", world["city"]["city"], "office")
    create_user("reviewer.b", world["city"]["b"], "reviewer")
    login("office")
    assert client.post("/assessment/scores/recompute", data={"year": "2017"}).status_code == 302
    page = client.get("/assessment/scores/?year=2017").get_data(as_text=True)
    assert "A区单位1" in page and "黄牌警告" in page and "规则第 1 版" in page
    explained = client.get(f"/assessment/scores/units/{world['city']['a1']}?year=2017").get_data(as_text=True)
    assert f'href="/submissions/{report}"' in explained and "审核通过的主题活动" in explained
    assert "节点主题活动（照片不少于 3 张）" in explained
    client.post("/logout")
    login("reviewer.b")  # another district: not its units, and no recomputing
    page = client.get("/assessment/scores/?year=2017").get_data(as_text=True)
    assert "B区单位1" in page and "A区单位1" not in page
    assert client.get(f"/assessment/scores/units/{world['city']['a1']}?year=2017").status_code == 404
    assert client.post("/assessment/scores/recompute", data={"year": "2017"}).status_code == 403
    client.post("/logout")
    login("filler.a1")  # a unit sees its own explanation, not the table
    assert client.get(f"/assessment/scores/units/{world['city']['a1']}?year=2017").status_code == 200
    assert client.get("/assessment/scores/?year=2017").status_code == 403


def test_the_cli_checks_loads_and_recomputes(app, world, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "scores.yaml"
    good.write_text(RULES.replace("version: 1", "version: 2"), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(RULES.replace("points: 5", "points: many"), encoding="utf-8")
    assert runner.invoke(args=["scores", "check", str(good)]).output.strip() == "ok unit_scores v2"
    refused = runner.invoke(args=["scores", "check", str(bad)])
    assert refused.exit_code == 1 and "rules[3].points" in refused.output
    assert runner.invoke(args=["scores", "load", str(good)]).exit_code == 0
    done = runner.invoke(args=["scores", "recompute", "2017", "--month", "3"])
    assert done.exit_code == 0 and "rules v2" in done.output


def test_the_api_gives_the_table_and_a_units_lines(app, world, client, create_user):
    from workflows.api import issue_token
    from tests.test_api import conforms
    with app.app_context():
        report = _submission(world, "a1", "activity_report", "approved", "2017-03", "other")
        scores.recompute_year(2017)
        db.session.commit()
        office = create_user("office.a", world["city"]["a"], "reviewer")
        plain = issue_token(db.session.get(User, office), "t")[1]
        db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    table = client.get("/api/v1/scores?year=2017&month=3", headers=headers)
    conforms(table, "/api/v1/scores", "get")
    body = table.get_json()
    names = [item["unit"]["name"] for item in body["items"]]
    assert names[0] == "A区单位1" and "B区单位1" not in names and body["rules_version"] == 1
    assert body["items"][0]["points_month"] == 2.0 and body["items"][0]["warned"] is True
    detail = client.get(f"/api/v1/scores?year=2017&month=3&unit={world['city']['a1']}", headers=headers)
    conforms(detail, "/api/v1/scores", "get")
    assert detail.get_json()["items"][0]["lines"] == [
        {"rule": "report", "points": 2.0, "source": "submission", "submission": report, "obligation": None}]
    assert client.get("/api/v1/scores?year=3000", headers=headers).status_code == 400
    assert client.get(f"/api/v1/scores?year=2017&unit={world['city']['b1']}", headers=headers
                      ).get_json()["items"] == []


def test_the_periodic_job_refreshes_last_month_and_this_month(app, world):
    with app.app_context():
        _submission(world, "a1", "activity_report", "approved", "2017-02", "other")
        _submission(world, "a1", "activity_report", "approved", "2017-03", "other")
        _submission(world, "a1", "activity_report", "approved", "2017-01", "other")
        db.session.commit()
        written = scores.recompute_recent(None, today=date(2017, 3, 20))
        version = scores.current_version().id
        months = sorted({s.month for s in db.session.execute(select(UnitScore)).scalars()})
        assert months == ["2017-02", "2017-03"] and written["scores"] == 2 * len(
            scores.participating_units(load_scoring(RULES)))
        assert _total(version, world["city"]["a1"], "2017-02") == Decimal("2.00")


def test_missed_obligations_come_from_the_obligation_rules(app, city, create_user):
    """Wired to the real obligations: a unit with a report and no nomination in March loses 5 points for it."""
    filler = create_user("filler.a1", city["a1"], "filler")
    world = {"city": city, "filler": filler}
    with app.app_context():
        install_builtin_forms()
        from workflows.demo.city import install_builtin_workflows
        install_builtin_workflows()
        _submission(world, "a1", "activity_report", "approved", "2017-03", "other")
        db.session.commit()
        scores.recompute([MARCH])
        lines = _lines(scores.current_version().id, city["a1"])
        assert ("missed", Decimal("-5.00"), "obligation", None, "nomination") in lines
        assert not any(line[4] == "activity" and line[0] == "missed" for line in lines)
