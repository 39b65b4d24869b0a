"""hardening (issue 7): session generations, sign-in throttle by address

Revision ID: 7a1e5ec0b1d7
Revises: 18008c299df6
Create Date: 2026-12-01 15:50:00

Finding 7 ends sessions by a per-account generation; finding 10 throttles
sign-in per client address, which needs the address index.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1e5ec0b1d7'
down_revision = '18008c299df6'
branch_labels = None
depends_on = None


def upgrade():
    # --- findings 7 and 10 (accounts): session generations; sign-in throttle by address ---
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_remote_addr_at', ['remote_addr', 'at'], unique=False)
    # --- end findings 7 and 10 ---


def downgrade():
    # --- findings 7 and 10 (accounts) ---
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_remote_addr_at')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
    # --- end findings 7 and 10 ---
