"""service records: a partial covering index for leaderboards and organisers' sums

Revision ID: a10v_leaderboard_index
Revises: a10o_obligations
Create Date: 2026-12-03 14:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a10v_leaderboard_index'
down_revision = 'a10o_obligations'
branch_labels = None
depends_on = None

WHERE = "is_current AND status = 'active'"


def upgrade():
    op.create_index('ix_service_record_board', 'service_record', ['organising_unit_id', 'held_on'],
                    unique=False, postgresql_include=['volunteer_id', 'hours'],
                    postgresql_where=sa.text(WHERE), sqlite_where=sa.text(WHERE))


def downgrade():
    op.drop_index('ix_service_record_board', table_name='service_record')
