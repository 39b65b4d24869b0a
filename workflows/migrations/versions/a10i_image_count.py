"""submissions: the number of images their answers hold, kept on save, so scores never parse answers

Revision ID: a10i_image_count
Revises: a10v_leaderboard_index
Create Date: 2026-12-04 18:40:00
"""
from alembic import op
import sqlalchemy as sa
import yaml


revision = 'a10i_image_count'
down_revision = 'a10v_leaderboard_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submission') as batch:
        batch.add_column(sa.Column('image_count', sa.Integer(), nullable=False, server_default='0'))
    bind = op.get_bind()
    versions = sa.table('form_version', sa.column('id', sa.Integer), sa.column('source', sa.Text))
    submission = sa.table('submission', sa.column('form_version_id', sa.Integer), sa.column('answers', sa.JSON),
                          sa.column('image_count', sa.Integer))
    for version_id, source in bind.execute(sa.select(versions.c.id, versions.c.source)).all():
        try:
            fields = (yaml.safe_load(source) or {}).get('fields') or []
        except yaml.YAMLError:
            continue
        images = [f['name'] for f in fields if isinstance(f, dict) and f.get('type') == 'image' and f.get('name')]
        if not images:
            continue
        count = sum((sa.func.coalesce(sa.func.json_array_length(submission.c.answers[name]), 0) for name in images),
                    sa.literal(0))
        bind.execute(submission.update().where(submission.c.form_version_id == version_id).values(image_count=count))


def downgrade():
    with op.batch_alter_table('submission') as batch:
        batch.drop_column('image_count')
