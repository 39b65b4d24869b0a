"""volunteers (issue 9): the registry, memberships, number sequences, the hours ledger, totals

Revision ID: c3f1a9d2e8b4
Revises: 7a1e5ec0b1d7
Create Date: 2026-12-02 10:00:00

One row per person (unique keyed hash of the ID number); service records
are versioned, never updated in place, one current version per
(submission, volunteer) by a partial unique index.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f1a9d2e8b4'
down_revision = '7a1e5ec0b1d7'
branch_labels = None
depends_on = None

HOURS = sa.Numeric(10, 1)


def upgrade():
    op.create_table('volunteer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('id_enc', sa.Text(), nullable=False),
    sa.Column('id_masked', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('sex', sa.String(length=8), nullable=False),
    sa.Column('birth_month', sa.String(length=7), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=True),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('guardian_name', sa.String(length=50), nullable=True),
    sa.Column('guardian_phone', sa.String(length=32), nullable=True),
    sa.Column('guardian_consent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('guardian_consent_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('hours_total', HOURS, server_default='0', nullable=False),
    sa.Column('person_times', sa.Integer(), server_default='0', nullable=False),
    sa.Column('registered_by_submission_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['city_id'], ['unit.id'], name=op.f('fk_volunteer_city_id_unit')),
    sa.ForeignKeyConstraint(['registered_by_submission_id'], ['submission.id'],
                            name=op.f('fk_volunteer_registered_by_submission_id_submission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer')),
    sa.UniqueConstraint('id_hash', name=op.f('uq_volunteer_id_hash')),
    sa.UniqueConstraint('number', name=op.f('uq_volunteer_number'))
    )

    op.create_table('volunteer_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_volunteer_membership_unit_id_unit')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                            name=op.f('fk_volunteer_membership_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_membership')),
    sa.UniqueConstraint('volunteer_id', 'unit_id', name='uq_volunteer_membership_volunteer_unit')
    )
    with op.batch_alter_table('volunteer_membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_membership_unit_id'), ['unit_id'], unique=False)

    op.create_table('volunteer_number_sequence',
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['city_id'], ['unit.id'], name=op.f('fk_volunteer_number_sequence_city_id_unit')),
    sa.PrimaryKeyConstraint('city_id', name=op.f('pk_volunteer_number_sequence'))
    )

    op.create_table('volunteer_year_total',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hours', HOURS, nullable=False),
    sa.Column('person_times', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                            name=op.f('fk_volunteer_year_total_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('volunteer_id', 'year', name=op.f('pk_volunteer_year_total'))
    )

    op.create_table('service_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_key', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('roster_row', sa.Integer(), nullable=False),
    sa.Column('activity_name', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('beneficiaries', sa.String(length=200), nullable=True),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('person_in_charge', sa.String(length=50), nullable=True),
    sa.Column('recorder', sa.String(length=50), nullable=True),
    sa.Column('reported_hours', HOURS, nullable=False),
    sa.Column('hours', HOURS, nullable=False),
    sa.Column('organising_unit_id', sa.Integer(), nullable=False),
    sa.Column('certifier_id', sa.Integer(), nullable=False),
    sa.Column('certified_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('correction_open', sa.Boolean(), nullable=False),
    sa.Column('requested_hours', HOURS, nullable=True),
    sa.Column('requested_by_unit_id', sa.Integer(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['certifier_id'], ['user_account.id'],
                            name=op.f('fk_service_record_certifier_id_user_account')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user_account.id'],
                            name=op.f('fk_service_record_changed_by_id_user_account')),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_version.id'],
                            name=op.f('fk_service_record_form_version_id_form_version')),
    sa.ForeignKeyConstraint(['organising_unit_id'], ['unit.id'],
                            name=op.f('fk_service_record_organising_unit_id_unit')),
    sa.ForeignKeyConstraint(['requested_by_unit_id'], ['unit.id'],
                            name=op.f('fk_service_record_requested_by_unit_id_unit')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'],
                            name=op.f('fk_service_record_submission_id_submission')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer.id'],
                            name=op.f('fk_service_record_volunteer_id_volunteer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_record')),
    sa.UniqueConstraint('record_key', 'version', name='uq_service_record_key_version')
    )
    with op.batch_alter_table('service_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_record_record_key'), ['record_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_record_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_record_organising_unit_id'), ['organising_unit_id'],
                              unique=False)
        batch_op.create_index('ix_service_record_volunteer_held_on', ['volunteer_id', 'held_on'], unique=False)
        # One current version per (activity, volunteer): a person is never certified twice for one activity.
        batch_op.create_index('uq_service_record_current', ['submission_id', 'volunteer_id'], unique=True,
                              sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))


def downgrade():
    with op.batch_alter_table('service_record', schema=None) as batch_op:
        batch_op.drop_index('uq_service_record_current')
        batch_op.drop_index('ix_service_record_volunteer_held_on')
        batch_op.drop_index(batch_op.f('ix_service_record_organising_unit_id'))
        batch_op.drop_index(batch_op.f('ix_service_record_submission_id'))
        batch_op.drop_index(batch_op.f('ix_service_record_record_key'))
    op.drop_table('service_record')
    op.drop_table('volunteer_year_total')
    op.drop_table('volunteer_number_sequence')
    with op.batch_alter_table('volunteer_membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_volunteer_membership_unit_id'))
    op.drop_table('volunteer_membership')
    op.drop_table('volunteer')
