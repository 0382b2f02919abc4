"""Schema migrations with Alembic: every start brings the database to the newest revision.

A database created before migrations existed (by `create_all`) is recognised and stamped with
the first revision, so it is upgraded instead of recreated. On PostgreSQL an advisory lock
keeps two bot processes that start together from migrating at once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
_LOCK_ID = 72_430_001


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every migration the database does not have yet."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    tables = set(inspect(connection).get_table_names())
    config = alembic_config(connection)
    if "alembic_version" not in tables and "user_preferences" in tables:
        command.stamp(config, FIRST_REVISION)
    command.upgrade(config, "head")
