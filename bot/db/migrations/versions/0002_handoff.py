"""Handoff: volunteers, invites, cases, transcripts, offers, the outbox, recent turns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 09:07:39.429813
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('waiting', 'held')")


def upgrade() -> None:

    op.create_table('invites',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_by', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('recent_turns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_key', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recent_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recent_turns_user_key'), ['user_key'], unique=False)

    op.create_table('volunteers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('max_chats', sa.Integer(), nullable=False),
    sa.Column('ui_language', sa.String(length=8), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('current_handoff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id')
    )
    op.create_table('handoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=8), nullable=False),
    sa.Column('user_key', sa.String(length=64), nullable=False),
    sa.Column('user_chat_id', sa.BigInteger(), nullable=False),
    sa.Column('engine_id', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('required_skill', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('excluded_volunteer_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=16), nullable=True),
    sa.Column('last_user_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_volunteer_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('renotified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ack_outbox_id', sa.Integer(), nullable=True),
    sa.Column('announced_position', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('label')
    )
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.create_index('handoffs_by_status', ['status', 'priority', 'waiting_since'], unique=False)
        batch_op.create_index(batch_op.f('ix_handoffs_user_key'), ['user_key'], unique=False)
        batch_op.create_index('one_open_handoff_per_user', ['user_key'], unique=True,
                              sqlite_where=OPEN, postgresql_where=OPEN)

    op.create_table('handoff_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handoff_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('source_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('source_message_id', sa.BigInteger(), nullable=True),
    sa.Column('edit_date', sa.BigInteger(), nullable=False),
    sa.Column('relayed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_chat_id', 'source_message_id', 'edit_date', name='handoff_message_once')
    )
    with op.batch_alter_table('handoff_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_messages_handoff_id'), ['handoff_id'], unique=False)

    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handoff_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('handoff_id', 'volunteer_id')
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_handoff_id'), ['handoff_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('handoff_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('buttons', sa.JSON(), nullable=True),
    sa.Column('copy_from_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('copy_message_id', sa.BigInteger(), nullable=True),
    sa.Column('edit_of', sa.Integer(), nullable=True),
    sa.Column('origin_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=40), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_message_id', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_handoff_id'), ['handoff_id'], unique=False)
        batch_op.create_index('outbox_by_sent_message', ['chat_id', 'sent_message_id'], unique=False)
        batch_op.create_index('outbox_chat_sequence', ['chat_id', 'seq'], unique=False)
        batch_op.create_index('outbox_due', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('user_preferences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('misunderstood', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:

    with op.batch_alter_table('user_preferences', schema=None) as batch_op:
        batch_op.drop_column('misunderstood')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('outbox_due')
        batch_op.drop_index('outbox_chat_sequence')
        batch_op.drop_index('outbox_by_sent_message')
        batch_op.drop_index(batch_op.f('ix_outbox_handoff_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_handoff_id'))

    op.drop_table('offers')
    with op.batch_alter_table('handoff_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_messages_handoff_id'))

    op.drop_table('handoff_messages')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index('one_open_handoff_per_user', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index(batch_op.f('ix_handoffs_user_key'))
        batch_op.drop_index('handoffs_by_status')

    op.drop_table('handoffs')
    op.drop_table('volunteers')
    with op.batch_alter_table('recent_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recent_turns_user_key'))

    op.drop_table('recent_turns')
    op.drop_table('invites')

