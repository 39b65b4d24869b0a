"""notifications (issue 12): a kind's parameters, rendered in the reader's language, and the state it asks about

Revision ID: a11d_notification_params
Revises: a11c_circulars
Create Date: 2026-12-04 19:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a11d_notification_params'
down_revision = 'a11c_circulars'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('for_state', sa.String(length=32), nullable=True))
        # The home page's unread notifications, newest first.
        batch_op.create_index('ix_notification_user_read', ['user_id', 'read_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_read')
        batch_op.drop_column('for_state')
        batch_op.drop_column('params')
