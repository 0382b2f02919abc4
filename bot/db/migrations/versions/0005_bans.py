"""Bans and flood limits: users banned by coordinators, and each user's message buckets.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_key', sa.String(length=64), nullable=False),
    sa.Column('case_label', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('banned_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_key')
    )
    op.create_table('flood_buckets',
    sa.Column('user_key', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('user_key', 'scope')
    )
    with op.batch_alter_table('flood_buckets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flood_buckets_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flood_buckets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flood_buckets_updated_at'))
    op.drop_table('flood_buckets')
    op.drop_table('bans')
