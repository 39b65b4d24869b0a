"""Volunteers (issue 9): the registry, certification into the hours ledger, corrections, totals, star levels."""
import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from forms.idcard import check_character
from workflows.config import ConfigError, load_config
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.engine.perform import ActionError, perform
from workflows.extensions import db
from workflows.filling.personal_data import hash_number, protect
from workflows.models import (AuditEvent, FormVersion, ServiceRecord, Submission, User, Volunteer,
                              VolunteerMembership, VolunteerYearTotal, WorkflowVersion)
from workflows.volunteers import corrections
from workflows.volunteers.stars import star_level


def id_number(serial, born="19900307"):
    first17 = f"341201{born}{serial:03d}"
    return first17 + check_character(first17)


A, B, C = id_number(101), id_number(102), id_number(103)


@pytest.fixture
def people(app, city, create_user):
    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    return {
        "filler": create_user("filler.a1", city["a1"], "filler"),
        "filler_a2": create_user("filler.a2", city["a2"], "filler"),
        "reviewer": create_user("reviewer.a", city["a"], "reviewer"),
        "certifier": create_user("certifier.a", city["a"], "certifier"),
        "certifier2": create_user("certifier2.a", city["a"], "certifier"),
        "certifier_b": create_user("certifier.b", city["b"], "certifier"),
        "city": city,
    }


def user(name):
    return db.session.execute(select(User).where(User.username == name)).scalar_one()


def report_answers(form, roster, held_on="2017-03-05", title="学雷锋志愿服务活动"):
    raw = {"theme": "leifeng", "title": title, "held_on": held_on, "place": "A区广场", "beneficiaries": "辖区老人",
           "content": "为辖区老人打扫卫生、理发、测量血压，开展防诈骗宣传。" * 3, "has_media": "0",
           "roster": [{"name": n, "id_number": i, "hours": str(h)} for n, i, h in roster],
           "photos": [{"id": "t", "name": "a.jpg"}], "person_in_charge": "王主任", "contact_phone": "13800138000",
           "recorder": "李记录"}
    from forms.answers import to_json, validate
    outcome = validate(form.spec, raw, today=date(2017, 12, 31))
    assert outcome.ok, outcome.errors
    return protect(form.spec, to_json(outcome.values))


def _new(app, people, form_key, answers_of, unit, creator, path):
    with app.test_request_context():
        form = db.session.execute(select(FormVersion).where(FormVersion.key == form_key)
                                   .order_by(FormVersion.version.desc())).scalars().first()
        workflow = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.form_key == form_key)
                                      .order_by(WorkflowVersion.version)).scalars().first()
        submission = Submission(definition=form, form_key=form.key, form_version=form.version,
                                form_sha256=form.sha256, unit_id=people["city"][unit], created_by_id=creator,
                                workflow=workflow, state="draft", answers=answers_of(form), row_version=1,
                                title="测试")
        db.session.add(submission)
        db.session.commit()
        for action, who in path:
            perform(submission.id, action, user(who))
        return submission.id


def approved_report(app, people, roster, held_on="2017-03-05", unit="a1"):
    creator = people["filler"] if unit == "a1" else people["filler_a2"]
    filler = "filler.a1" if unit == "a1" else "filler.a2"
    return _new(app, people, "activity_report", lambda f: report_answers(f, roster, held_on), unit, creator,
                [("submit", filler), ("approve", "reviewer.a")])


def registration(app, people, number, name="赵志愿", unit="a1", skills=("teaching",), **extra):
    def answers_of(form):
        raw = {"name": name, "sex": "male", "id_number": number, "phone": "13900139000",
               "skills": list(skills), "data_consent": "1", **extra}
        from forms.answers import to_json, validate
        outcome = validate(form.spec, raw, today=date(2017, 12, 31))
        assert outcome.ok, outcome.errors
        return protect(form.spec, to_json(outcome.values))
    creator = people["filler"] if unit == "a1" else people["filler_a2"]
    filler = "filler.a1" if unit == "a1" else "filler.a2"
    return _new(app, people, "volunteer_registration", answers_of, unit, creator, [("submit", filler)])


def protect_one(number):
    from workflows.filling.personal_data import protect_number
    return protect_number(number)


def snapshot(app, submission_id=None):
    """Everything certification may write: state, records, volunteers, counters, audit events."""
    with app.app_context():
        state = db.session.get(Submission, submission_id).state if submission_id else None
        return {
            "state": state,
            "records": db.session.execute(select(func.count()).select_from(ServiceRecord)).scalar(),
            "volunteers": sorted(db.session.execute(
                select(Volunteer.id_hash, Volunteer.hours_total, Volunteer.person_times)).all()),
            "years": sorted(db.session.execute(select(VolunteerYearTotal.volunteer_id, VolunteerYearTotal.year,
                                                      VolunteerYearTotal.hours,
                                                      VolunteerYearTotal.person_times)).all()),
            "events": db.session.execute(select(func.count()).select_from(AuditEvent)).scalar(),
        }


def volunteer(number):
    return db.session.execute(select(Volunteer).where(Volunteer.id_hash == hash_number(number))
                              .execution_options(populate_existing=True)).scalar_one_or_none()


def year_total(volunteer_id, year):
    return db.session.execute(select(VolunteerYearTotal).where(
        VolunteerYearTotal.volunteer_id == volunteer_id, VolunteerYearTotal.year == year)
        .execution_options(populate_existing=True)).scalar_one_or_none()


def current_records(submission_id):
    return db.session.execute(select(ServiceRecord).where(ServiceRecord.submission_id == submission_id,
                                                          ServiceRecord.is_current.is_(True))
                              .order_by(ServiceRecord.roster_row)).scalars().all()


def audit_verify_exit(app):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


# --- certification ------------------------------------------------------------------------------------------

def test_certifying_with_one_corrected_and_one_excluded_row_writes_two_records_and_both_totals(app, people):
    report = approved_report(app, people, [("张三", A, 3), ("李四", B, 4), ("王五", C, 2)])
    decisions = {"rows": {"1": {"decision": "correct", "hours": "2.5", "reason": "含路途时间"},
                          "2": {"decision": "exclude", "reason": "未实际到场"}}}
    with app.test_request_context():
        result = perform(report, "certify", user("certifier.a"), params=decisions)
        assert result.body["to"] == "certified"
    with app.app_context():
        records = current_records(report)
        assert [(r.roster_row, r.hours, r.reported_hours, r.change) for r in records] == [
            (0, Decimal("3.0"), Decimal("3.0"), "certify"), (1, Decimal("2.5"), Decimal("4.0"), "correct")]
        assert records[1].reason == "含路途时间"
        first = records[0]
        assert (first.activity_name, first.held_on, first.place, first.beneficiaries, first.recorder) == (
            "学雷锋志愿服务活动", date(2017, 3, 5), "A区广场", "辖区老人", "李记录")
        assert first.content.startswith("为辖区老人") and first.organising_unit_id == people["city"]["a1"]
        assert first.certifier_id == people["certifier"] and first.form_version_id is not None
        assert db.session.execute(select(func.count()).select_from(ServiceRecord)).scalar() == 2
        a, b = volunteer(A), volunteer(B)
        assert volunteer(C) is None  # the excluded row registers nobody
        assert (a.hours_total, a.person_times) == (Decimal("3.0"), 1)
        assert (b.hours_total, b.person_times) == (Decimal("2.5"), 1)
        assert (year_total(a.id, 2017).hours, year_total(a.id, 2017).person_times) == (Decimal("3.0"), 1)
        assert (year_total(b.id, 2017).hours, year_total(b.id, 2017).person_times) == (Decimal("2.5"), 1)
        # Registered (登记) as new volunteers of the organising unit, with what the ID number says.
        assert [m.unit_id for m in a.memberships] == [people["city"]["a1"]]
        assert (a.name, a.sex, a.birth_month, a.id_masked[-4:]) == ("张三", "male", "1990-03", A[-4:])
        # The certifier's changes are on the report's audit chain, without ID numbers.
        note = db.session.execute(select(AuditEvent.comment).where(
            AuditEvent.submission_id == report, AuditEvent.action == "certify_rows")).scalar_one()
        assert "含路途时间" in note and "未实际到场" in note and A not in note and C not in note
    assert audit_verify_exit(app)[0] == 0


def test_a_second_activity_counts_on_the_same_person_and_year(app, people):
    first = approved_report(app, people, [("张三", A, 3)], held_on="2017-03-05")
    second = approved_report(app, people, [("张三", A, 5)], held_on="2016-12-31")
    with app.test_request_context():
        perform(first, "certify", user("certifier.a"))
        perform(second, "certify", user("certifier.a"))
        a = volunteer(A)
        assert db.session.execute(select(func.count()).select_from(Volunteer)).scalar() == 1
        assert (a.hours_total, a.person_times) == (Decimal("8.0"), 2)
        assert year_total(a.id, 2017).hours == Decimal("3.0") and year_total(a.id, 2016).hours == Decimal("5.0")


def test_more_than_24_hours_in_a_day_rolls_the_whole_transition_back(app, people):
    morning = approved_report(app, people, [("张三", A, 20), ("李四", B, 3)])
    evening = approved_report(app, people, [("李四", B, 2), ("张三", A, 5)])
    with app.test_request_context():
        perform(morning, "certify", user("certifier.a"))
    before = snapshot(app, evening)
    with app.test_request_context():
        with pytest.raises(ActionError) as refused:
            perform(evening, "certify", user("certifier.a"))
        assert refused.value.status == 422
        assert "24" in refused.value.message and "张三" in refused.value.message
        assert refused.value.details["field"] == "roster[1].hours"
    after = snapshot(app, evening)
    assert after == before and after["state"] == "approved"
    # Corrected to fit the day, it goes through.
    with app.test_request_context():
        perform(evening, "certify", user("certifier.a"),
                params={"rows": {1: {"decision": "correct", "hours": "4", "reason": "按签到表核减"}}})
        assert volunteer(A).hours_total == Decimal("24.0")


def test_a_row_whose_id_number_no_longer_validates_is_refused_with_nothing_written(app, people):
    report = approved_report(app, people, [("张三", A, 3), ("李四", B, 4)])
    with app.app_context():
        submission = db.session.get(Submission, report)
        answers = dict(submission.answers)
        roster = [dict(r) for r in answers["roster"]]
        roster[1]["id_number"] = dict(roster[1]["id_number"], enc="not-a-token")
        answers["roster"] = roster
        submission.answers = answers
        db.session.commit()
    before = snapshot(app, report)
    with app.test_request_context():
        with pytest.raises(ActionError) as refused:
            perform(report, "certify", user("certifier.a"))
        assert refused.value.details["field"] == "roster[1].id_number" and "李四" in refused.value.message
    assert snapshot(app, report) == before
    with app.test_request_context():  # the certifier may exclude that row instead
        perform(report, "certify", user("certifier.a"),
                params={"rows": {"1": {"decision": "exclude", "reason": "身份证号码有误"}}})
        assert len(current_records(report)) == 1


def test_one_person_twice_in_one_activity_is_refused(app, people):
    report = approved_report(app, people, [("张三", A, 3), ("张三", B, 2)])
    with app.app_context():  # the form refuses a repeated number; stored answers from elsewhere may still hold one
        submission = db.session.get(Submission, report)
        answers = dict(submission.answers)
        answers["roster"] = [answers["roster"][0], dict(answers["roster"][1], id_number=protect_one(A))]
        submission.answers = answers
        db.session.commit()
    before = snapshot(app, report)
    with app.test_request_context():
        with pytest.raises(ActionError) as refused:
            perform(report, "certify", user("certifier.a"))
        assert refused.value.details["field"] == "roster[1].id_number" and "重复认证" in refused.value.message
    assert snapshot(app, report) == before


@pytest.mark.parametrize("rows, field", [
    ({"0": {"decision": "exclude"}}, "roster[0].reason"),
    ({"0": {"decision": "correct", "hours": "25", "reason": "x"}}, "roster[0].hours"),
    ({"0": {"decision": "destroy"}}, "roster[0].decision"),
    ({"7": "confirm"}, "rows"),
    ({"0": {"decision": "exclude", "reason": "无"}}, "rows"),  # nothing left to certify
])
def test_row_decisions_that_cannot_apply_are_refused(app, people, rows, field):
    report = approved_report(app, people, [("张三", A, 3)])
    with app.test_request_context():
        with pytest.raises(ActionError) as refused:
            perform(report, "certify", user("certifier.a"), params={"rows": rows})
        assert refused.value.details["field"] == field
    assert snapshot(app, report)["state"] == "approved"


def test_only_a_certifier_above_the_organising_unit_certifies(app, people):
    report = approved_report(app, people, [("张三", A, 3)])
    with app.test_request_context():
        for name in ("certifier.b", "reviewer.a"):
            with pytest.raises(ActionError) as refused:
                perform(report, "certify", user(name))
            assert refused.value.status in (403, 404)
    assert snapshot(app, report)["records"] == 0


def test_two_certifiers_at_once_write_one_set_of_records(app, people, backend):
    if backend != "postgresql":
        pytest.skip("a real race needs concurrent writers: PostgreSQL")
    for round_ in range(5):
        report = approved_report(app, people, [("张三", A, 1), ("李四", B, 1), (f"新人{round_}", id_number(200 + round_), 1)],
                                 held_on=f"2017-03-{round_ + 1:02d}")
        with app.app_context():
            version = db.session.get(Submission, report).row_version
        results = []

        def certify(name):
            with app.test_request_context():
                try:
                    results.append(perform(report, "certify", user(name), expected_version=version).status)
                except ActionError as refused:
                    results.append(refused.status)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=certify, args=(n,)) for n in ("certifier.a", "certifier2.a")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 409], results
        with app.app_context():
            assert len(current_records(report)) == 3
    with app.app_context():
        a = volunteer(A)
        assert (a.hours_total, a.person_times) == (Decimal("5.0"), 5)
        numbers = sorted(int(n[-8:]) for n in db.session.execute(select(Volunteer.number)).scalars())
        assert numbers == list(range(1, len(numbers) + 1))


# --- the registry -------------------------------------------------------------------------------------------

def test_registration_creates_one_person_and_a_second_one_updates_it(app, people):
    first = registration(app, people, A, name="赵志愿")
    second = registration(app, people, A, name="赵志愿新", unit="a2", skills=("legal",))
    with app.test_request_context():
        perform(first, "register", user("certifier.a"))
        v = volunteer(A)
        number = v.number
        assert number and number.startswith("CITY") and (v.sex, v.birth_month) == ("male", "1990-03")
        perform(second, "register", user("certifier.a"))
        v = volunteer(A)
        assert db.session.execute(select(func.count()).select_from(Volunteer)).scalar() == 1
        assert v.number == number and v.name == "赵志愿新" and v.skills == ["legal", "teaching"]
        assert sorted(m.unit_id for m in v.memberships) == sorted([people["city"]["a1"], people["city"]["a2"]])
    # Certification later finds the same person, never a second one.
    report = approved_report(app, people, [("赵", A, 2)])
    with app.test_request_context():
        perform(report, "certify", user("certifier.a"))
        assert db.session.execute(select(func.count()).select_from(Volunteer)).scalar() == 1


def test_a_minor_is_registered_only_with_the_guardians_consent(app, people):
    young = id_number(301, born=f"{date.today().year - 10}0101")
    submission = registration(app, people, young, name="小明", guardian_name="大明", guardian_phone="13700137000",
                              guardian_consent="1")
    with app.app_context():  # consent left out of the stored answers: the effect refuses
        s = db.session.get(Submission, submission)
        assert "guardian_consent" in s.answers and s.answers["guardian_consent"] is True
        s.answers = dict(s.answers, guardian_consent=False)
        db.session.commit()
    with app.test_request_context():
        with pytest.raises(ActionError) as refused:
            perform(submission, "register", user("certifier.a"))
        assert refused.value.details["field"] == "guardian_consent"
        assert volunteer(young) is None
    with app.app_context():
        s = db.session.get(Submission, submission)
        s.answers = dict(s.answers, guardian_consent=True)
        db.session.commit()
    with app.test_request_context():
        perform(submission, "register", user("certifier.a"))
        v = volunteer(young)
        assert (v.guardian_name, v.guardian_consent) == ("大明", True) and v.guardian_consent_at is not None


def test_two_registrations_of_one_number_approved_at_once_make_one_person(app, people, backend):
    if backend != "postgresql":
        pytest.skip("a real race needs concurrent writers: PostgreSQL")
    for round_ in range(5):
        number = id_number(400 + round_)
        pair = [registration(app, people, number, unit="a1"), registration(app, people, number, unit="a2")]
        results = []

        def register(submission_id, name):
            with app.test_request_context():
                try:
                    results.append(perform(submission_id, "register", user(name)).status)
                except ActionError as refused:
                    results.append((refused.status, refused.message))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=register, args=(s, n)) for s, n in zip(pair, ("certifier.a", "certifier2.a"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [200, 200], results
        with app.app_context():
            assert db.session.execute(select(func.count()).select_from(Volunteer).where(
                Volunteer.id_hash == hash_number(number))).scalar() == 1
            v = volunteer(number)
            assert len(v.memberships) == 2
    with app.app_context():
        numbers = sorted(int(n[-8:]) for n in db.session.execute(select(Volunteer.number)).scalars())
        assert numbers == [1, 2, 3, 4, 5]


def test_volunteer_numbers_are_consecutive_even_after_a_refusal(app, people):
    with app.test_request_context():
        perform(registration(app, people, A), "register", user("certifier.a"))
    # A certification that registers two new people but is refused gives their numbers back.
    refused = approved_report(app, people, [("李四", B, 3), ("王五", C, 25 - 3)], held_on="2017-04-01")
    blocker = approved_report(app, people, [("王五", C, 3)], held_on="2017-04-01")
    with app.test_request_context():
        perform(blocker, "certify", user("certifier.a"))  # registers 王五
        with pytest.raises(ActionError):
            perform(refused, "certify", user("certifier.a"))  # 王五 would pass 24 hours: 李四 must not keep a number
        report = approved_report(app, people, [("李四", B, 3), ("新人", id_number(500), 2)])
        perform(report, "certify", user("certifier.a"))
        numbers = db.session.execute(select(Volunteer.number).order_by(Volunteer.number)).scalars().all()
        assert numbers == [f"CITY{n:08d}" for n in range(1, 5)]


# --- corrections, never deletions ---------------------------------------------------------------------------

def certified(app, people):
    report = approved_report(app, people, [("张三", A, 3), ("李四", B, 4)])
    with app.test_request_context():
        perform(report, "certify", user("certifier.a"))
        return report, [r.record_key for r in current_records(report)]


def test_a_correction_is_asked_amended_and_the_totals_follow(app, people):
    report, (key_a, _key_b) = certified(app, people)
    a1 = people["city"]["a1"]
    with app.test_request_context():
        with pytest.raises(ActionError) as refused:  # a unit the volunteer does not serve with
            corrections.request_correction(key_a, user("filler.a2"), people["city"]["a2"], "少记了")
        assert refused.value.status == 403
        with pytest.raises(ActionError):  # a reason is required
            corrections.request_correction(key_a, user("filler.a1"), a1, " ")
        corrections.request_correction(key_a, user("filler.a1"), a1, "实际服务 5 小时", hours="5")
        with pytest.raises(ActionError) as refused:  # the asking unit cannot amend
            corrections.amend(key_a, user("filler.a1"), "5", "核实")
        assert refused.value.status == 403
        corrections.amend(key_a, user("certifier.a"), "5", "核对签到表属实")
        versions = corrections.history(key_a)
        assert [(v.version, v.change, v.hours, v.is_current) for v in versions] == [
            (1, "certify", Decimal("3.0"), False), (2, "request", Decimal("3.0"), False),
            (3, "amend", Decimal("5.0"), True)]
        assert versions[1].requested_hours == Decimal("5.0") and versions[2].reason == "核对签到表属实"
        assert versions[2].changed_by_id == people["certifier"]
        a = volunteer(A)
        assert (a.hours_total, a.person_times) == (Decimal("5.0"), 1)
        assert year_total(a.id, 2017).hours == Decimal("5.0")
        with pytest.raises(ActionError):  # nothing open to amend any more
            corrections.amend(key_a, user("certifier.a"), "6", "再改")
        # A second request, refused: the hours stay.
        corrections.request_correction(key_a, user("filler.a1"), a1, "应为 8 小时", hours="8")
        corrections.refuse_correction(key_a, user("certifier.a"), "签到表不支持")
        assert volunteer(A).hours_total == Decimal("5.0")
        assert [v.change for v in corrections.history(key_a)] == ["certify", "request", "amend", "request", "refuse"]
        actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.submission_id == report)
                                     .order_by(AuditEvent.seq)).scalars().all()
        assert actions[-4:] == ["record_request", "record_amend", "record_request", "record_refuse"]
    assert audit_verify_exit(app)[0] == 0


def test_a_revocation_keeps_the_record_and_takes_it_out_of_the_totals(app, people):
    report, (key_a, key_b) = certified(app, people)
    with app.test_request_context():
        with pytest.raises(ActionError) as refused:
            corrections.revoke(key_b, user("certifier.b"), "另一区")
        assert refused.value.status == 403
        with pytest.raises(ActionError):
            corrections.revoke(key_b, user("certifier.a"), "")
        corrections.revoke(key_b, user("certifier.a"), "重复报送")
        b = volunteer(B)
        assert (b.hours_total, b.person_times) == (Decimal("0.0"), 0)
        assert (year_total(b.id, 2017).hours, year_total(b.id, 2017).person_times) == (Decimal("0.0"), 0)
        versions = corrections.history(key_b)
        assert [(v.version, v.status, v.is_current) for v in versions] == [(1, "active", False), (2, "revoked", True)]
        assert versions[1].reason == "重复报送"
        with pytest.raises(ActionError):
            corrections.revoke(key_b, user("certifier.a"), "再撤")
        # Stale version refused; the other record untouched.
        with pytest.raises(ActionError) as stale:
            corrections.revoke(key_a, user("certifier.a"), "过期页面", expected_version=2)
        assert stale.value.status == 409
        assert volunteer(A).hours_total == Decimal("3.0")
        assert db.session.execute(select(func.count()).select_from(ServiceRecord)).scalar() == 3
    # Every change is on the report's chain, and the chain still verifies.
    assert audit_verify_exit(app)[0] == 0


def test_the_revoked_hours_free_the_day_again(app, people):
    report, (key_a, _key_b) = certified(app, people)
    late = approved_report(app, people, [("张三", A, 22)])
    with app.test_request_context():
        with pytest.raises(ActionError):
            perform(late, "certify", user("certifier.a"))
        corrections.revoke(key_a, user("certifier.a"), "误报")
        perform(late, "certify", user("certifier.a"))
        assert volunteer(A).hours_total == Decimal("22.0")


# --- star levels --------------------------------------------------------------------------------------------

def test_star_levels_follow_the_configured_thresholds(app, tmp_path):
    with app.app_context():
        assert app.config["STAR_THRESHOLDS"] == (100, 300, 600, 1000, 1500)
        assert [star_level(h) for h in (0, 99.5, 100, 299, 300, 1499, 1500, 9999)] == [0, 0, 1, 1, 2, 4, 5, 5]
    beijing = load_config(str(tmp_path), {"STAR_THRESHOLDS": "100,200,500,800,1000"})["STAR_THRESHOLDS"]
    assert [star_level(h, beijing) for h in (150, 250, 800, 1000)] == [1, 2, 4, 5]


@pytest.mark.parametrize("raw", ["100,abc", "300,100", "0,100", "100,,300", "-5"])
def test_malformed_star_thresholds_name_the_variable(tmp_path, raw):
    with pytest.raises(ConfigError) as error:
        load_config(str(tmp_path), {"STAR_THRESHOLDS": raw})
    assert str(error.value).startswith("STAR_THRESHOLDS:")


def test_the_demo_city_lets_someone_certify_every_report(app):
    from workflows.access import has_role_at
    from workflows.demo.city import seed_demo
    from workflows.models import Role, RoleGrant, Unit
    with app.test_request_context():
        seed_demo()
        reporting = db.session.execute(select(Unit).where(Unit.kind != "office")).scalars().all()
        fillers = db.session.execute(select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(RoleGrant.role == "filler").distinct()).scalars().all()
        certifiers = db.session.execute(select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
            RoleGrant.role == Role.CERTIFIER.value).distinct()).scalars().all()
        for unit in reporting:
            for filler in fillers:
                if not has_role_at(filler, "filler", unit):
                    continue
                assert any(c.id != filler.id and has_role_at(c, "certifier", unit) for c in certifiers), unit.name
