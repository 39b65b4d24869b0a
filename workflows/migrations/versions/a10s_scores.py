"""unit scores (issue 10): scoring versions, monthly scores per unit and the lines that explain them

Revision ID: a10s_scores
Revises: f1c4d8e2a7b9
Create Date: 2026-12-03 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a10s_scores'
down_revision = 'f1c4d8e2a7b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scoring_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_version')),
    sa.UniqueConstraint('key', 'version', name='uq_scoring_version_key_version')
    )
    op.create_table('unit_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scoring_version_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('points', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['scoring_version_id'], ['scoring_version.id'],
                            name=op.f('fk_unit_score_scoring_version_id_scoring_version')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unit_score_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_score')),
    sa.UniqueConstraint('scoring_version_id', 'month', 'unit_id', name='uq_unit_score')
    )
    with op.batch_alter_table('unit_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_score_unit_id'), ['unit_id'], unique=False)
    op.create_table('score_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scoring_version_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('rule_key', sa.String(length=64), nullable=False),
    sa.Column('points', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('source_ref', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['scoring_version_id'], ['scoring_version.id'],
                            name=op.f('fk_score_line_scoring_version_id_scoring_version')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_score_line_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_line'))
    )
    with op.batch_alter_table('score_line', schema=None) as batch_op:
        batch_op.create_index('ix_score_line_version_unit_month', ['scoring_version_id', 'unit_id', 'month'],
                              unique=False)


def downgrade():
    op.drop_table('score_line')
    op.drop_table('unit_score')
    op.drop_table('scoring_version')
