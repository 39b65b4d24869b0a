"""``seed_scale`` at a tenth of the notice's scale: the counts, states that follow their audit trails, a clean chain;
then, at a hundredth, the volunteers: the registry, the records on certified reports and the counters."""
import hashlib
import json
import math
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update
from werkzeug.security import generate_password_hash

from forms import idcard
from forms.answers import validate
from workflows.engine import audit
from workflows.engine.perform import perform
from workflows.extensions import db
from workflows.models import (AuditEvent, FormVersion, Role, RoleGrant, ServiceRecord, Snapshot, Submission, Unit, User,
                              Volunteer, VolunteerMembership, VolunteerNumberSequence, VolunteerYearTotal,
                              WorkflowVersion)
from workflows.models.units import utcnow
from workflows.org.operations import create_unit
from workflows.filling.personal_data import hash_number, is_protected, reveal, reveal_number
from workflows.demo.people import REGION_CODES
from workflows.demo.scale import PATHS, STATE_SHARES, add_reports, seed_scale
from workflows.demo.cli import seed_scale_command
from workflows.volunteers.registry import Person, age_on, birth_month_of, ensure_people, sex_of

SIZE = 0.1  # 100 units, 1,200 reports


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_seed_scale_counts_states_and_audit_trail(app):
    with app.app_context():
        assert _count(Unit) == 0
        result = seed_scale(size=SIZE, volunteers=False)

        # The counts asked for.
        assert result["units"] == _count(Unit) == 100
        assert result["reports"] == result["reports_added"] == 1_200
        assert _count(Submission) == 1_200
        new_units = db.session.execute(select(Unit.id).where(Unit.code.like("%-X%"))).scalars().all()
        assert len(new_units) == result["units_added"] > 0
        assert result["users_added"] >= math.ceil(len(new_units) / 10)
        with_filler = set(db.session.execute(select(RoleGrant.unit_id).where(
            RoleGrant.role == Role.FILLER.value, RoleGrant.unit_id.in_(new_units))).scalars())
        assert with_filler == set(new_units)
        assert sum(result["states_added"].values()) == 1_200
        assert set(result["states_added"]) == set(STATE_SHARES)
        states = dict(db.session.execute(select(Submission.state, func.count()).group_by(Submission.state)).all())
        assert states["published"] > sum(n for s, n in states.items() if s != "published")
        assert states == result["states_added"]
        # Without volunteers the registry and the ledger stay empty.
        assert result["volunteers"] == result["records"] == _count(Volunteer) == _count(ServiceRecord) == 0

        # Pinned to the built-in form and workflow, summary columns filled in.
        form = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                   .order_by(FormVersion.version.desc())).scalars().first()
        workflow = db.session.execute(select(WorkflowVersion).where(
            WorkflowVersion.key == "activity_review")).scalar_one()
        submissions = db.session.execute(select(Submission).order_by(Submission.id)).scalars().all()
        events = {}
        trails = select(AuditEvent).order_by(AuditEvent.submission_id, AuditEvent.seq)
        for event in db.session.execute(trails).scalars():
            events.setdefault(event.submission_id, []).append(event)
        now = utcnow()
        overdue = in_time = 0
        for s in submissions:
            assert (s.form_version_id, s.workflow_version_id) == (form.id, workflow.id)
            assert s.campaign == s.answers["theme"] and s.title == s.answers["title"]
            assert s.period == s.answers["held_on"][:7] and s.answers["held_on"].startswith("2017-")
            assert len(s.answers["content"]) >= 50 and 3 <= len(s.answers["roster"]) <= 30
            assert all(is_protected(row["id_number"]) and 0.5 <= row["hours"] <= 8 for row in s.answers["roster"])
            # The state is where the audit trail ends; the row's version counts the first save and each transition.
            trail = events.get(s.id, [])
            assert _without_return_rounds([e.action for e in trail]) == PATHS[s.state]
            assert (trail[-1].to_state if trail else "draft") == s.state
            assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
            assert all(a.to_state == b.from_state and a.at < b.at for a, b in zip(trail, trail[1:]))
            assert s.row_version == 1 + len(trail)
            assert s.audit_head == (trail[-1].hash if trail else None)
            assert s.state_since == (trail[-1].at if trail else s.created_at)
            assert s.created_at <= s.state_since
            if s.state in ("submitted", "approved"):
                assert s.due_at is not None
                if s.due_at < now:
                    overdue += 1
                else:
                    in_time += 1
            else:
                assert s.due_at is None
        assert overdue and in_time, "some submitted items are overdue, most are not"
        assert _count(Snapshot) == states["archived"] + states["published"]

        checked, problem = audit.verify()
        assert problem is None
        assert checked == _count(AuditEvent) == result["audit_events_added"]


def test_generated_answers_pass_the_form(app):
    with app.app_context():
        seed_scale(size=SIZE, volunteers=False)
        spec = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                  .order_by(FormVersion.version.desc())).scalars().first().spec
        for s in db.session.execute(select(Submission).order_by(Submission.id).limit(40)).scalars():
            outcome = validate(spec, reveal(spec, s.answers), strict=True)
            # The generated reports carry no photos (no files are generated); everything else is as the form wants.
            assert set(outcome.errors) <= {"photos"}, outcome.errors


def test_running_again_adds_nothing_and_the_app_can_add_rows(app):
    with app.app_context():
        first = seed_scale(size=SIZE, volunteers=False)
        again = app.test_cli_runner().invoke(seed_scale_command, ["--size", str(SIZE), "--no-volunteers"])
        assert again.exit_code == 0, again.output
        assert "100 units (0 added)" in again.output and "1200 activity reports (0 added" in again.output
        assert _count(Submission) == first["reports"]
        # Ids given explicitly in bulk did not leave PostgreSQL's sequences behind.
        office = db.session.execute(select(Unit).where(Unit.code == "YZ")).scalar_one()
        unit = create_unit(office, "community", "YZ-NEW", "新建社区")
        db.session.commit()
        assert unit.id > max(db.session.execute(select(Unit.id).where(Unit.id != unit.id)).scalars())
        ids = add_reports(3, state="submitted", district="YZ")
        assert len(ids) == 3 and min(ids) > first["reports"]
        assert _count(User) == first["users"]
        assert audit.verify()[1] is None


def _without_return_rounds(actions):
    """The path with every "returned, then submitted again" round taken out."""
    out = []
    for action in actions:
        if action == "submit" and out and out[-1] == "return":
            out.pop()
        else:
            out.append(action)
    return out


# --- volunteers ------------------------------------------------------------------------------------------------

VOLUNTEER_SIZE = 0.01  # the demo city's 78 units, 120 reports, 3,000 volunteers, 10,000 service records
PEOPLE, RECORDS = 3_000, 10_000
CERTIFIED = ("certified", "archived", "published")
YEAR = (date(2017, 1, 1), date(2017, 12, 31))


@pytest.fixture
def cheap_passwords(monkeypatch):
    """The demo's ~90 accounts with a cheap hash (signing in checks it as any other), so a seed takes a second."""
    def cheap(password):
        return generate_password_hash(password, method="pbkdf2:sha256:1000")
    monkeypatch.setattr("workflows.models.users.generate_password_hash", cheap)
    monkeypatch.setattr("workflows.demo.scale.generate_password_hash", cheap)


def _current_records():
    return db.session.execute(select(ServiceRecord).where(ServiceRecord.is_current.is_(True))
                              .order_by(ServiceRecord.id)).scalars().all()


def _counters():
    people = {v.id: (v.hours_total, v.person_times) for v in db.session.execute(select(Volunteer)).scalars()}
    years = {(t.volunteer_id, t.year): (t.hours, t.person_times)
             for t in db.session.execute(select(VolunteerYearTotal)).scalars()}
    return people, years


def test_volunteers_and_records_reach_their_targets_and_the_counters_are_the_records_sums(app, cheap_passwords):
    with app.app_context():
        result = seed_scale(size=VOLUNTEER_SIZE)
        assert result["volunteers"] == result["volunteers_added"] == _count(Volunteer) == PEOPLE
        assert result["records"] == result["records_added"] == RECORDS
        assert _count(ServiceRecord) == _count(ServiceRecord, ServiceRecord.is_current.is_(True),
                                               ServiceRecord.held_on.between(*YEAR)) == RECORDS

        all_time, per_year = {}, {}
        for record in _current_records():
            if record.status != "active":
                continue
            hours, times = all_time.get(record.volunteer_id, (Decimal("0"), 0))
            all_time[record.volunteer_id] = (hours + record.hours, times + 1)
            key = (record.volunteer_id, record.held_on.year)
            hours, times = per_year.get(key, (Decimal("0"), 0))
            per_year[key] = (hours + record.hours, times + 1)
        people, years = _counters()
        assert {k: v for k, v in people.items() if v != (0, 0)} == all_time
        assert years == per_year
        # A spread, not one record each: some people have none this year, some many.
        times = sorted(t for _h, t in people.values())
        assert times[0] == 0 and times[-1] >= 5

        # One or two units each, all of them units that report; most rows from the organiser's own people.
        units_of = {}
        for person, unit_id in db.session.execute(select(VolunteerMembership.volunteer_id,
                                                         VolunteerMembership.unit_id)):
            units_of.setdefault(person, set()).add(unit_id)
        assert set(units_of) == set(people) and {len(u) for u in units_of.values()} == {1, 2}
        kinds = set(db.session.execute(select(Unit.kind).where(
            Unit.id.in_({u for units in units_of.values() for u in units}))).scalars())
        assert kinds <= {"civilized_unit", "community", "team"}
        own = sum(1 for r in _current_records() if r.organising_unit_id in units_of[r.volunteer_id])
        assert own > 0.3 * RECORDS


def test_nobody_serves_over_24_hours_a_day_nor_twice_in_one_activity(app, cheap_passwords):
    with app.app_context():
        seed_scale(size=VOLUNTEER_SIZE)
        per_day, per_activity = {}, {}
        for record in _current_records():
            day = (record.volunteer_id, record.held_on)
            per_day[day] = per_day.get(day, Decimal("0")) + record.hours
            activity = (record.volunteer_id, record.submission_id)
            per_activity[activity] = per_activity.get(activity, 0) + 1
        assert max(per_day.values()) <= 24
        assert max(per_activity.values()) == 1
        # The limit is met with people serving twice or more on a day, not by keeping everybody to one activity.
        assert len(per_day) < RECORDS


def test_every_record_is_a_row_of_a_certified_report_of_the_seed(app, cheap_passwords):
    with app.app_context():
        seed_scale(size=VOLUNTEER_SIZE)
        submissions = {s.id: s for s in db.session.execute(select(Submission)).scalars()}
        certify = {e.submission_id: (e.actor_id, e.at) for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "certify").order_by(AuditEvent.seq)).scalars()}
        hash_of = dict(db.session.execute(select(Volunteer.id, Volunteer.id_hash)).all())
        by_report = {}
        for record in _current_records():
            by_report.setdefault(record.submission_id, []).append(record)
        # Every certified report (or later) has its records; nothing in flight has any.
        assert set(by_report) == {s.id for s in submissions.values() if s.state in CERTIFIED}
        for submission_id, records in by_report.items():
            report = submissions[submission_id]
            answers, roster = report.answers, report.answers["roster"]
            assert sorted(r.roster_row for r in records) == list(range(len(roster)))
            assert answers["volunteer_count"] == len(roster) and f"组织{len(roster)}名志愿者" in answers["content"]
            assert Decimal(str(answers["total_hours"])) == sum(r.hours for r in records)
            for record in records:
                row = roster[record.roster_row]
                assert row["id_number"]["hash"] == hash_of[record.volunteer_id]
                assert Decimal(str(row["hours"])) == record.hours == record.reported_hours
                assert record.held_on == date.fromisoformat(answers["held_on"])
                assert (record.organising_unit_id, record.activity_name) == (report.unit_id, answers["title"])
                assert (record.certifier_id, record.certified_at) == certify[submission_id]
                assert (record.changed_by_id, record.change, record.version) == (record.certifier_id, "certify", 1)
        # The archive snapshots hold the rewritten answers, with the digest ``freeze`` computes.
        snapshots = db.session.execute(select(Snapshot)).scalars().all()
        assert snapshots
        for snapshot in snapshots:
            assert snapshot.answers == submissions[snapshot.submission_id].answers
            assert snapshot.sha256 == _freeze_digest(snapshot)
        # The rewritten rosters are what the form accepts (the generated reports carry no photos).
        spec = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                  .order_by(FormVersion.version.desc())).scalars().first().spec
        for submission_id in sorted(by_report, key=lambda i: -len(by_report[i]))[:3]:
            outcome = validate(spec, reveal(spec, submissions[submission_id].answers), strict=True)
            assert set(outcome.errors) <= {"photos"}, outcome.errors


def test_people_are_registered_as_the_registry_would_and_the_app_numbers_on_from_there(app, cheap_passwords):
    with app.test_request_context():
        seed_scale(size=VOLUNTEER_SIZE)
        volunteers = db.session.execute(select(Volunteer).order_by(Volunteer.id)).scalars().all()
        # Numbered in registration order, from the city's counter, without a gap.
        assert [v.number for v in volunteers] == [f"FY{n:08d}" for n in range(1, PEOPLE + 1)]
        city = db.session.execute(select(Unit).where(Unit.code == "FY")).scalar_one()
        sequence = db.session.get(VolunteerNumberSequence, city.id)
        assert (sequence.prefix, sequence.last_value) == ("FY", PEOPLE)
        assert len({v.id_hash for v in volunteers}) == PEOPLE
        for volunteer in volunteers:
            plain = reveal_number({"enc": volunteer.id_enc})
            assert idcard.problem(plain) is None and plain[:6] in REGION_CODES.values()
            assert hash_number(plain) == volunteer.id_hash and idcard.mask(plain) == volunteer.id_masked
            assert (sex_of(plain), birth_month_of(plain)) == (volunteer.sex, volunteer.birth_month)
            assert age_on(plain, date.today()) >= 14 and volunteer.city_id == city.id
        assert {v.sex for v in volunteers} == {"male", "female"}

        # A seeded person's number finds them: the registry does not register them again.
        first = volunteers[0]
        unit = db.session.get(Unit, first.memberships[0].unit_id)
        person = Person(number=reveal_number({"enc": first.id_enc}), name=first.name)
        found, created = ensure_people([person], unit)[first.id_hash]
        assert found.id == first.id and not created
        db.session.commit()

        # Certifying a report of new people numbers them on from the seed's last number.
        [report] = add_reports(1, state="approved", district="YZ")
        roster = db.session.get(Submission, report).answers["roster"]
        office = db.session.execute(select(User).where(User.username == "city.office")).scalar_one()
        assert perform(report, "certify", office).body["to"] == "certified"
        new = db.session.execute(select(Volunteer.number).where(Volunteer.id > volunteers[-1].id)
                                 .order_by(Volunteer.number)).scalars().all()
        assert new == [f"FY{n:08d}" for n in range(PEOPLE + 1, PEOPLE + 1 + len(roster))]
        db.session.refresh(sequence)
        assert sequence.last_value == PEOPLE + len(roster)


def test_running_again_adds_nothing_and_mends_counters_left_out_of_step(app, cheap_passwords):
    with app.app_context():
        seed_scale(size=VOLUNTEER_SIZE)
        counters = _counters()
        assert sum(times for _hours, times in counters[0].values()) == RECORDS
        again = app.test_cli_runner().invoke(seed_scale_command, ["--size", str(VOLUNTEER_SIZE)])
        assert again.exit_code == 0, again.output
        assert f"{PEOPLE} volunteers (0 added)" in again.output
        assert f"{RECORDS} service records (0 added)" in again.output
        assert _count(Volunteer) == PEOPLE and _count(ServiceRecord) == RECORDS
        assert _counters() == counters
        assert db.session.execute(select(VolunteerNumberSequence.last_value)).scalar_one() == PEOPLE

        # A run stopped after the records but before the counters: the next run rebuilds them.
        busiest = max(counters[0], key=lambda person: counters[0][person][1])
        db.session.execute(update(Volunteer).where(Volunteer.id == busiest).values(hours_total=0, person_times=0))
        db.session.execute(delete(VolunteerYearTotal).where(VolunteerYearTotal.volunteer_id == busiest))
        db.session.commit()
        assert seed_scale(size=VOLUNTEER_SIZE)["records_added"] == 0
        db.session.expire_all()
        assert _counters() == counters

        assert audit.verify()[1] is None
        verified = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert verified.exit_code == 0, verified.output


def test_a_city_seeded_without_volunteers_gets_them_on_a_later_run(app, cheap_passwords):
    with app.app_context():
        bare = seed_scale(size=VOLUNTEER_SIZE, volunteers=False)
        assert (bare["volunteers"], bare["records"]) == (0, 0)
        rosters = [len(s.answers["roster"]) for s in db.session.execute(select(Submission)).scalars()]
        assert max(rosters) <= 30  # the unregistered pool's small rosters
        later = seed_scale(size=VOLUNTEER_SIZE)
        assert (later["reports_added"], later["volunteers_added"], later["records_added"]) == (0, PEOPLE, RECORDS)
        assert db.session.execute(select(func.sum(Volunteer.person_times))).scalar() == RECORDS
        certified = {s.id for s in db.session.execute(select(Submission).where(Submission.state.in_(CERTIFIED)))
                     .scalars()}
        assert set(db.session.execute(select(ServiceRecord.submission_id)).scalars()) == certified


def _freeze_digest(snapshot):
    """What ``review.archive.freeze`` keeps as the snapshot's SHA-256 (the generated reports have no files)."""
    record = {"answers": snapshot.answers, "files": snapshot.files,
              "form": [snapshot.form_key, snapshot.form_version, snapshot.form_sha256],
              "workflow": [snapshot.workflow_key, snapshot.workflow_version]}
    return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
