"""Engine and session factory for the bot's database (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from bot.db.migrate import upgrade
from bot.db.urls import async_url


def create_engine(url: str) -> AsyncEngine:
    """Create the engine; SQLite gets WAL and a busy timeout so readers never block the writer.

    Query parameters are people's words and chat ids: they never appear in logs or error messages.
    A SQLite writer waits up to 15 s for another one (`?timeout=SECONDS` in the URL changes it);
    PostgreSQL connections are checked before use, so a restarted server is simply reconnected to.
    """
    url = async_url(url)
    if url.startswith("sqlite"):
        timeout = float(str(make_url(url).query.get("timeout", 15)))
        engine = create_async_engine(url, connect_args={"timeout": timeout}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """One session per unit of work; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    await upgrade(engine)
