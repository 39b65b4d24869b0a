"""ballots (issue 10): the monthly top ten as a ballot — panel, items, marks

Revision ID: a10b_ballots
Revises: a10c_campaigns
Create Date: 2026-12-03 13:45:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10b_ballots'
down_revision = 'a10c_campaigns'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.String(length=16), nullable=False),
    sa.Column('picks', sa.Integer(), nullable=False),
    sa.Column('max_score', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('tie_break', sa.String(length=32), nullable=False),
    sa.Column('panel_mode', sa.String(length=8), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_ballot_unit_id_unit')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_ballot_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user_account.id'],
                            name=op.f('fk_ballot_confirmed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot')),
    sa.UniqueConstraint('month', name=op.f('uq_ballot_month'))
    )
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_unit_id'), ['unit_id'], unique=False)
    op.create_table('ballot_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('voted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_member_ballot_id_ballot')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_ballot_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_member')),
    sa.UniqueConstraint('ballot_id', 'user_id', name='uq_ballot_member_ballot_user')
    )
    with op.batch_alter_table('ballot_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_member_ballot_id'), ['ballot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_member_user_id'), ['user_id'], unique=False)
    op.create_table('ballot_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_item_ballot_id_ballot')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_ballot_item_submission_id_submission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_item')),
    sa.UniqueConstraint('ballot_id', 'submission_id', name='uq_ballot_item_ballot_submission')
    )
    with op.batch_alter_table('ballot_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_item_ballot_id'), ['ballot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_item_submission_id'), ['submission_id'], unique=False)
    op.create_table('ballot_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_mark_ballot_id_ballot')),
    sa.ForeignKeyConstraint(['member_id'], ['ballot_member.id'], name=op.f('fk_ballot_mark_member_id_ballot_member')),
    sa.ForeignKeyConstraint(['item_id'], ['ballot_item.id'], name=op.f('fk_ballot_mark_item_id_ballot_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_mark')),
    sa.UniqueConstraint('member_id', 'item_id', name='uq_ballot_mark_member_item')
    )
    with op.batch_alter_table('ballot_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_mark_ballot_id'), ['ballot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_mark_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballot_mark_item_id'), ['item_id'], unique=False)


def downgrade():
    for table, indexes in (('ballot_mark', ('item_id', 'member_id', 'ballot_id')),
                           ('ballot_item', ('submission_id', 'ballot_id')),
                           ('ballot_member', ('user_id', 'ballot_id')),
                           ('ballot', ('unit_id',))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
        op.drop_table(table)
