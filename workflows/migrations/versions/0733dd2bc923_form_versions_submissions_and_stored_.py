"""form versions, submissions and stored files

Revision ID: 0733dd2bc923
Revises: aa7971adc015
Create Date: 2026-11-29 00:47:05.654016

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0733dd2bc923'
down_revision = 'aa7971adc015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_form_version_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_version')),
    sa.UniqueConstraint('key', 'version', name='uq_form_version_key_version')
    )
    with op.batch_alter_table('form_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_version_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_version_status'), ['status'], unique=False)

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('form_key', sa.String(length=64), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('form_sha256', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_submission_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_version.id'], name=op.f('fk_submission_form_version_id_form_version')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_submission_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission'))
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_form_version_id'), ['form_version_id'], unique=False)
        batch_op.create_index('ix_submission_unit_state_created', ['unit_id', 'state', 'created_at'], unique=False)

    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('field_name', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('mimetype', sa.String(length=128), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_name', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_stored_file_submission_id_submission')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_stored_file_unit_id_unit')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_stored_file_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file')),
    sa.UniqueConstraint('token', name=op.f('uq_stored_file_token'))
    )
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_file_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_file_unit_id'), ['unit_id'], unique=False)



def downgrade():
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_file_unit_id'))
        batch_op.drop_index(batch_op.f('ix_stored_file_submission_id'))

    op.drop_table('stored_file')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_unit_state_created')
        batch_op.drop_index(batch_op.f('ix_submission_form_version_id'))

    op.drop_table('submission')
    with op.batch_alter_table('form_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_version_status'))
        batch_op.drop_index(batch_op.f('ix_form_version_key'))

    op.drop_table('form_version')
