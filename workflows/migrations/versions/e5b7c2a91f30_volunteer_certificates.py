"""volunteer certificates (issue 9): 志愿服务记录证明 and their verification codes

Revision ID: e5b7c2a91f30
Revises: c3f1a9d2e8b4
Create Date: 2026-12-02 12:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b7c2a91f30'
down_revision = 'c3f1a9d2e8b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=48), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Numeric(10, 1), nullable=False),
    sa.Column('records', sa.JSON(), nullable=False),
    sa.Column('person_in_charge', sa.String(length=50), nullable=False),
    sa.Column('officer', sa.String(length=50), nullable=False),
    sa.Column('contact', sa.String(length=64), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('job_run_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_run_id'], ['job_run.id'], name=op.f('fk_certificate_job_run_id_job_run')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'],
                            name=op.f('fk_certificate_requested_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_certificate_unit_id_unit')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'], name=op.f('fk_certificate_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('code', name=op.f('uq_certificate_code')),
    sa.UniqueConstraint('number', name=op.f('uq_certificate_number'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_volunteer_id'), ['volunteer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_volunteer_id'))
        batch_op.drop_index(batch_op.f('ix_certificate_unit_id'))
    op.drop_table('certificate')
