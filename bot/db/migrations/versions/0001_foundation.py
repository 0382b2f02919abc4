"""Foundation: user preferences and the knowledge base.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_preferences",
        sa.Column("user_key", sa.String(64), primary_key=True),
        sa.Column("chosen_language", sa.String(8)),
        sa.Column("last_language", sa.String(8)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("related", sa.JSON, nullable=False),
        sa.Column("last_reviewed", sa.Date, nullable=False),
        sa.Column("source_file", sa.String(300), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("topic", "language"),
    )
    op.create_index("ix_knowledge_entries_topic", "knowledge_entries", ["topic"])


def downgrade() -> None:
    op.drop_table("knowledge_entries")
    op.drop_table("user_preferences")
