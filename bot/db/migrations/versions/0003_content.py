"""Content: review status of answers, flow texts and country notes, the service directory, flow state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_preferences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('pending_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('knowledge_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.String(length=32), server_default='draft', nullable=False))
    op.create_table('knowledge_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source_file', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('language', 'key')
    )
    op.create_table('service_cities',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('service_entries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('city', sa.String(length=32), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('hours', sa.String(length=120), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('last_verified', sa.Date(), nullable=False),
    sa.Column('source', sa.JSON(), nullable=False),
    sa.Column('review', sa.String(length=32), nullable=False),
    sa.Column('sample', sa.Boolean(), nullable=False),
    sa.Column('source_file', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('service_entries')
    op.drop_table('service_cities')
    op.drop_table('knowledge_texts')
    with op.batch_alter_table('knowledge_entries', schema=None) as batch_op:
        batch_op.drop_column('review')
    with op.batch_alter_table('user_preferences', schema=None) as batch_op:
        batch_op.drop_column('pending_at')
        batch_op.drop_column('pending')
