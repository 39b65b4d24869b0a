"""activity date on the row (issue 13): lists show the summary's date without reading the answers

Revision ID: a13a_activity_on
Revises: a11d_returned_versions
Create Date: 2026-12-07 16:30:00

"""
from alembic import op
import sqlalchemy as sa
import yaml


revision = 'a13a_activity_on'
down_revision = 'a11d_returned_versions'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ALTER TABLE on both databases: SQLite adds and drops a column without copying the table
    # (a copy could not drop a table the audit trail refers to).
    op.add_column('submission', sa.Column('activity_on', sa.Date(), nullable=True))
    bind = op.get_bind()
    # Each form version names its date field in its own definition; the answers hold it as an ISO date.
    for version_id, source in bind.execute(sa.text("SELECT id, source FROM form_version")).all():
        try:
            summary = (yaml.safe_load(source) or {}).get("summary") or {}
        except yaml.YAMLError:
            continue
        field = summary.get("date") if isinstance(summary, dict) else None
        if not isinstance(field, str):
            continue
        if bind.dialect.name == "postgresql":
            value = "CAST(NULLIF(answers::jsonb ->> :field, '') AS DATE)"
        else:
            value = "NULLIF(json_extract(answers, '$.' || :field), '')"
        bind.execute(sa.text(f"UPDATE submission SET activity_on = {value} WHERE form_version_id = :id"),
                     {"field": field, "id": version_id})


def downgrade():
    op.drop_column('submission', 'activity_on')
