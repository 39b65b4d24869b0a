"""campaigns (issue 10): the year's nodes as data

Revision ID: a10c_campaigns
Revises: a10s_scores
Create Date: 2026-12-03 13:50:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10c_campaigns'
down_revision = 'a10s_scores'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('node_on', sa.Date(), nullable=False),
    sa.Column('window_start', sa.Date(), nullable=False),
    sa.Column('window_end', sa.Date(), nullable=False),
    sa.Column('theme', sa.Text(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('unit_kinds', sa.JSON(), nullable=False),
    sa.Column('forms', sa.JSON(), nullable=False),
    sa.Column('lead_unit_ids', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('window_start <= node_on AND node_on <= window_end',
                       name=op.f('ck_campaign_window_holds_node')),
    sa.CheckConstraint("source IN ('generated', 'office')", name=op.f('ck_campaign_source_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                            name=op.f('fk_campaign_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                            name=op.f('fk_campaign_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign')),
    sa.UniqueConstraint('year', 'key', name=op.f('uq_campaign_year_key'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_year'), ['year'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_window_start'), ['window_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_window_end'), ['window_end'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_window_end'))
        batch_op.drop_index(batch_op.f('ix_campaign_window_start'))
        batch_op.drop_index(batch_op.f('ix_campaign_year'))
    op.drop_table('campaign')
