"""``seed_scale`` at a tenth of the notice's scale: the counts, states that follow their audit trails, a clean chain."""
import math

from sqlalchemy import func, select

from forms.answers import validate
from workflows.engine import audit
from workflows.extensions import db
from workflows.models import AuditEvent, FormVersion, Role, RoleGrant, Snapshot, Submission, Unit, User, WorkflowVersion
from workflows.models.units import utcnow
from workflows.org.operations import create_unit
from workflows.filling.personal_data import is_protected, reveal
from workflows.demo.scale import PATHS, STATE_SHARES, add_reports, seed_scale
from workflows.demo.cli import seed_scale_command

SIZE = 0.1  # 100 units, 1,200 reports


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_seed_scale_counts_states_and_audit_trail(app):
    with app.app_context():
        assert _count(Unit) == 0
        result = seed_scale(size=SIZE)

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
        seed_scale(size=SIZE)
        spec = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                   .order_by(FormVersion.version.desc())).scalars().first().spec
        for s in db.session.execute(select(Submission).order_by(Submission.id).limit(40)).scalars():
            outcome = validate(spec, reveal(spec, s.answers), strict=True)
            # The generated reports carry no photos (no files are generated); everything else is as the form wants.
            assert set(outcome.errors) <= {"photos"}, outcome.errors


def test_running_again_adds_nothing_and_the_app_can_add_rows(app):
    with app.app_context():
        first = seed_scale(size=SIZE)
        again = app.test_cli_runner().invoke(seed_scale_command, ["--size", str(SIZE)])
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
