"""Alembic environment: migrations run on the connection `bot.db.migrate` hands over."""

from alembic import context

import bot.handoff.models  # noqa: F401  (registers the handoff tables on Base.metadata)
from bot.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through bot.db.migrate (python -m bot migrate)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
