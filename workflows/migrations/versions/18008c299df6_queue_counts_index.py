"""queue counts index

Revision ID: 18008c299df6
Revises: 10c05717ecbf
Create Date: 2026-11-29 01:29:48.810786

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '18008c299df6'
down_revision = '10c05717ecbf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_queue_counts', ['workflow_version_id', 'state', 'unit_id', 'campaign', 'period', 'due_at'], unique=False)



def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_queue_counts')

