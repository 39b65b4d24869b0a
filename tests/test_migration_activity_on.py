"""The a13a migration: rows saved before the ``activity_on`` column existed get it from their answers."""
from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from tests.test_workflow_engine import new_report, people  # noqa: F401 (the fixture)
from workflows.extensions import db
from workflows.models import Submission


def test_upgrade_copies_the_summary_date_of_rows_saved_before_it(app, people):  # noqa: F811
    report = new_report(app, people)
    with app.app_context():
        stored = db.session.execute(select(Submission.answers).where(Submission.id == report)).scalar_one()
        db.session.remove()
        downgrade(revision="a11d_returned_versions")
        try:
            columns = [c["name"] for c in db.inspect(db.engine).get_columns("submission")]
            assert "activity_on" not in columns  # as the row was before this release
        finally:
            upgrade()
        assert db.session.get(Submission, report).activity_on == date.fromisoformat(stored["held_on"])  # the form's summary.date
