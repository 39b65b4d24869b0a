"""certificate batches (issue 9): a whole unit's certificates as one ZIP

Revision ID: f1c4d8e2a7b9
Revises: e5b7c2a91f30
Create Date: 2026-12-03 09:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1c4d8e2a7b9'
down_revision = 'e5b7c2a91f30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('job_run_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_run_id'], ['job_run.id'], name=op.f('fk_certificate_batch_job_run_id_job_run')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'],
                            name=op.f('fk_certificate_batch_requested_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_certificate_batch_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_batch'))
    )
    with op.batch_alter_table('certificate_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_batch_unit_id'), ['unit_id'], unique=False)
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_certificate_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_certificate_batch_id_certificate_batch'), 'certificate_batch',
                                    ['batch_id'], ['id'])


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_certificate_batch_id_certificate_batch'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_certificate_batch_id'))
        batch_op.drop_column('batch_id')
    with op.batch_alter_table('certificate_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_batch_unit_id'))
    op.drop_table('certificate_batch')
