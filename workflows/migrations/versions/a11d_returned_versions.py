"""returned versions (issue 12): the answers a submission had when it was returned, for the reviewer's diff

Revision ID: a11d_returned_versions
Revises: a11d_notification_params
Create Date: 2026-12-04 19:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a11d_returned_versions'
down_revision = 'a11d_notification_params'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('returned_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['audit_event.id'], name=op.f('fk_returned_version_event_id_audit_event')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_returned_version_submission_id_submission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_returned_version')),
    sa.UniqueConstraint('event_id', name=op.f('uq_returned_version_event_id'))
    )
    with op.batch_alter_table('returned_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_returned_version_submission_id'), ['submission_id'], unique=False)


def downgrade():
    with op.batch_alter_table('returned_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_returned_version_submission_id'))
    op.drop_table('returned_version')
