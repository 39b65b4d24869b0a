"""monthly obligations (issue 10): rule versions, reminders sent, indexes for the compliance table

Revision ID: a10o_obligations
Revises: a10b_ballots
Create Date: 2026-12-03 14:00:00
"""
import json
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a10o_obligations'
down_revision = 'a10b_ballots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('obligation_rule_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('loaded_by_id', sa.Integer(), nullable=True),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['loaded_by_id'], ['user_account.id'],
                            name=op.f('fk_obligation_rule_version_loaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligation_rule_version')),
    sa.UniqueConstraint('key', 'version', name='uq_obligation_rule_key_version')
    )
    op.create_table('obligation_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('obligation', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_obligation_reminder_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligation_reminder')),
    sa.UniqueConstraint('unit_id', 'obligation', 'period', name='uq_obligation_reminder')
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_obligations', ['form_key', 'period', 'state', 'unit_id', 'id'],
                              unique=False)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_reached', ['submission_id', 'to_state', 'at'], unique=False)
    _backfill_nomination_months()


def _backfill_nomination_months():
    """Nominations saved before the form's summary named ``month`` get their ``period`` from the answer."""
    bind = op.get_bind()
    submission = sa.table('submission', sa.column('id', sa.Integer), sa.column('form_key', sa.String),
                          sa.column('period', sa.String), sa.column('answers', sa.JSON))
    rows = bind.execute(sa.select(submission.c.id, submission.c.answers).where(
        submission.c.form_key == 'exemplar_nomination', submission.c.period.is_(None))).all()
    for sid, answers in rows:
        if isinstance(answers, str):
            answers = json.loads(answers)
        month = (answers or {}).get('month')
        if isinstance(month, str) and re.fullmatch(r'[0-9]{4}-(0[1-9]|1[0-2])', month):
            bind.execute(submission.update().where(submission.c.id == sid).values(period=month))


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_reached')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_obligations')
    op.drop_table('obligation_reminder')
    op.drop_table('obligation_rule_version')
