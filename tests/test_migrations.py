"""Migrations: the newest revision matches the models, on SQLite and PostgreSQL, and old databases upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

import bot.handoff.models  # noqa: F401  (the handoff tables are part of the metadata)
from bot.db.migrate import upgrade
from bot.db.models import Base
from bot.db.session import create_engine


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_newest_migration_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # idempotent: a second start changes nothing
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_a_database_from_before_migrations_is_upgraded_in_place(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with engine.begin() as connection:  # what the first release created with create_all
            await connection.execute(text(
                "CREATE TABLE user_preferences (user_key VARCHAR(64) PRIMARY KEY, chosen_language VARCHAR(8), "
                "last_language VARCHAR(8), created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)"))
            await connection.execute(text(
                "CREATE TABLE knowledge_entries (id INTEGER PRIMARY KEY, topic VARCHAR(64) NOT NULL, "
                "language VARCHAR(8) NOT NULL, title VARCHAR(200) NOT NULL, answer TEXT NOT NULL, "
                "sources JSON NOT NULL, related JSON NOT NULL, last_reviewed DATE NOT NULL, "
                "source_file VARCHAR(300) NOT NULL, loaded_at DATETIME NOT NULL, UNIQUE (topic, language))"))
            await connection.execute(text("CREATE INDEX ix_knowledge_entries_topic ON knowledge_entries (topic)"))
            await connection.execute(text(
                "INSERT INTO user_preferences VALUES ('k', 'ar', 'ar', '2026-11-01', '2026-11-01')"))
        await upgrade(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            kept = (await connection.execute(text("SELECT chosen_language, misunderstood FROM user_preferences"))).all()
        assert {"handoffs", "outbox", "volunteers", "knowledge_texts", "service_entries", "alembic_version"} <= tables
        assert kept == [("ar", 0)]
    finally:
        await engine.dispose()
