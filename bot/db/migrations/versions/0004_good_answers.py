"""Good answers: replies volunteers marked for the editors' review list.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('good_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('volunteer_id', 'message_id', name='good_answer_once')
    )
    with op.batch_alter_table('good_answers', schema=None) as batch_op:
        batch_op.create_index('good_answers_by_status', ['status', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('good_answers', schema=None) as batch_op:
        batch_op.drop_index('good_answers_by_status')
    op.drop_table('good_answers')
