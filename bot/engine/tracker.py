"""Direct access to the engine's tracker store, for deleting a user's conversation history.

Rasa's HTTP API can append and replace events but never delete them, so /forget and the retention
job remove the rows from the engine's own database (its SQLite file, or PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.db.session import create_engine


class EngineTrackerStore:
    """The engine's `events` table, seen from the bot."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url)

    async def delete_conversation(self, sender_id: str) -> int:
        """Delete every event of `sender_id`; returns the number of rows removed."""
        return await self._delete("DELETE FROM events WHERE sender_id = :sender", {"sender": sender_id})

    async def delete_before(self, cutoff: datetime) -> int:
        """Delete every event older than `cutoff` (the retention period); returns the number of rows removed."""
        return await self._delete("DELETE FROM events WHERE timestamp < :cutoff", {"cutoff": cutoff.timestamp()})

    async def _delete(self, statement: str, parameters: dict[str, object]) -> int:
        try:
            async with self._engine.begin() as connection:
                result = await connection.execute(text(statement), parameters)
                return int(result.rowcount or 0)
        except (OperationalError, ProgrammingError) as exc:
            if "no such table" in str(exc) or "does not exist" in str(exc):
                return 0  # the engine has not stored anything yet
            raise

    async def close(self) -> None:
        await self._engine.dispose()
