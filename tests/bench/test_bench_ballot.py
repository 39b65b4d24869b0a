"""The monthly ballot's result at the notice's scale: 200 nominations, 9 panel members (50 at small scale).

Every member marks ``picks`` (10) nominations, none of their own unit. The
result (three queries and the count by the rule) is timed from an empty
session, as a page or API request starts, for both rules; the confirmation
of the whole ballot (one transaction: every nomination through the engine,
one audit event each) is timed once. Figures are printed, never asserted.
"""
import time
from datetime import date, timedelta

from sqlalchemy import select

from forms.answers import to_json, validate
from tests.bench.conftest import median_ms, p95_ms, scale
from tests.test_ballots import NOMINATION
from workflows.assessment.ballots.confirmation import confirm
from workflows.assessment.ballots.results import result
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.extensions import db
from workflows.filling.personal_data import protect
from workflows.models import (Ballot, BallotItem, BallotMark, BallotMember, FormVersion, Role, RoleGrant, Submission,
                              User, WorkflowVersion)
from workflows.models.units import utcnow
from workflows.org.operations import create_unit, create_user

MEMBERS = 9
PICKS = 10
RUNS = 15


def _seed_city(app):
    """The city office with 9 panel members, four districts, twenty units; returns their ids."""
    with app.test_request_context():
        install_builtin_forms()
        install_builtin_workflows()
        city = create_unit(None, "office", "BENCH", "市文明办")
        districts = [create_unit(city, "office", f"B{d}", f"区{d}") for d in range(4)]
        units = [create_unit(districts[n % 4], "civilized_unit", f"B{n % 4}-{n}", f"单位{n}") for n in range(20)]
        filler = create_user("bench.filler", "填报员", "bench-password-1", units[0])
        members = []
        for m in range(MEMBERS):
            person = create_user(f"bench.office{m}", f"评委{m}", "bench-password-1", city)
            db.session.add(RoleGrant(user=person, unit=city, role=Role.OFFICE.value))
            members.append(person)
        db.session.commit()
        return {"city": city.id, "units": [u.id for u in units], "filler": filler.id,
                "members": [p.id for p in members]}


def _add_ballot(app, seeded, count, rule, month):
    """A closed ballot over ``count`` fresh nominations; each member marked ``PICKS`` of them."""
    with app.test_request_context():
        form = db.session.execute(select(FormVersion).where(FormVersion.key == "exemplar_nomination")
                                .order_by(FormVersion.version.desc())).scalars().first()
        workflow = db.session.execute(select(WorkflowVersion).where(WorkflowVersion.key == "exemplar_review",
                                                                    WorkflowVersion.version == 2)).scalar_one()
        outcome = validate(form.spec, dict(NOMINATION, month=month), today=date(2017, 12, 31))
        answers = protect(form.spec, to_json(outcome.values))
        now = utcnow()
        units = seeded["units"]
        submissions = [Submission(definition=form, form_key=form.key, form_version=form.version,
                                  form_sha256=form.sha256, unit_id=units[n % len(units)],
                                  created_by_id=seeded["filler"], workflow=workflow, state="nominated",
                                  row_version=3, title=f"典型{month}-{n}", answers=answers,
                                  submitted_at=now - timedelta(minutes=count - n)) for n in range(count)]
        db.session.add_all(submissions)
        ballot = Ballot(unit_id=seeded["city"], month=month, status="closed", rule=rule, picks=PICKS, max_score=10,
                        deadline=now - timedelta(minutes=1), created_by_id=seeded["members"][0])
        db.session.add(ballot)
        db.session.flush()
        items = [BallotItem(ballot_id=ballot.id, submission_id=s.id) for s in submissions]
        seats = [BallotMember(ballot_id=ballot.id, user_id=uid, voted_at=now) for uid in seeded["members"]]
        db.session.add_all(items + seats)
        db.session.flush()
        for m, seat in enumerate(seats):
            chosen = [items[(m * 7 + k * 13) % count] for k in range(PICKS)]
            db.session.add_all(BallotMark(ballot_id=ballot.id, member_id=seat.id, item_id=item.id,
                                          **({"score": 10 - k} if rule == "score_sum" else {"rank": k + 1}))
                               for k, item in enumerate(chosen))
        db.session.commit()
        return ballot.id


def test_ballot_result_and_confirmation(app, backend, report):
    count = scale(50, 200)
    seeded = _seed_city(app)
    rows = []
    for rule, month in (("score_sum", "2017-03"), ("borda", "2017-04")):
        ballot_id = _add_ballot(app, seeded, count, rule, month)
        samples = []
        for _ in range(RUNS):
            with app.app_context():
                db.session.remove()
                started = time.perf_counter()
                outcome = result(db.session.get(Ballot, ballot_id))
                samples.append(time.perf_counter() - started)
                assert len(outcome.rows) == count and len(outcome.selected) == PICKS
        with app.test_request_context():
            version = db.session.get(Ballot, ballot_id).row_version
            started = time.perf_counter()
            confirmed = confirm(ballot_id, db.session.get(User, seeded["members"][0]), version)
            confirm_ms = (time.perf_counter() - started) * 1000
            assert len(confirmed.selected) == PICKS
            decided = db.session.execute(select(Submission.state).join(BallotItem, BallotItem.submission_id ==
                                                                        Submission.id)
                                         .where(BallotItem.ballot_id == ballot_id)).scalars().all()
            assert decided.count("selected") == PICKS and decided.count("not_selected") == count - PICKS
        rows.append((backend, rule, count, MEMBERS, f"{median_ms(samples):.1f}", f"{p95_ms(samples):.1f}",
                     f"{confirm_ms:.0f}"))
    report("Monthly ballot: result and confirmation",
           ["backend", "rule", "nominations", "members", "result median ms", "result p95 ms", "confirm ms (once)"],
           rows)
