"""The retention job: every hour, delete what is older than RETENTION_DAYS.

- handoff cases closed before the period, with their transcripts, offers and messages, and the last
  exchanges shown on case cards (`Timers.delete_expired`, also run by the handoff's own sweep);
- transcript lines and relayed messages older than the period in cases that are still open;
- the engine's conversation history (tracker events), straight from its database;
- log files (STATE_DIR/logs), cut daily and deleted after the period (`bot.logs.prune_log_files`).

Started in the application's post_init, stopped with the services; it reads the time from `clock`,
so tests move the clock instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.tracker import EngineTrackerStore
from bot.handoff.models import OutboxMessage, TranscriptEntry
from bot.handoff.timers import Timers
from bot.logs import prune_log_files
from bot.periodic import Background

logger = logging.getLogger(__name__)

SWEEP_EVERY = 3600.0
# Messages later ones refer to (edits of a Take button, of the place in the queue); they hold no words.
REFERRED = ("offer", "ack")


def utc_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Swept:
    """What one run deleted."""

    cases: int = 0
    case_messages: int = 0
    engine_events: int = 0
    log_files: int = 0


class Retention:
    """Deletes what is older than `period`, now (`sweep`) or every `every` seconds (`start`)."""

    def __init__(self, period: timedelta, sessions: async_sessionmaker[AsyncSession], timers: Timers,
                 tracker_store: EngineTrackerStore, log_folder: Path, *, every: float = SWEEP_EVERY,
                 clock: Callable[[], datetime] = utc_clock) -> None:
        self.period = period
        self.sessions = sessions
        self.timers = timers
        self.tracker_store = tracker_store
        self.log_folder = log_folder
        self.every = every
        self.clock = clock
        self._job = Background("retention sweep")

    async def sweep(self) -> Swept:
        """Delete everything older than the period, as of `clock()`."""
        now = self.clock()
        cutoff = now - self.period
        cases = await self.timers.delete_expired(now)
        async with self.sessions.begin() as session:
            lines = await session.execute(delete(TranscriptEntry).where(TranscriptEntry.created_at < cutoff))
            sent = await session.execute(delete(OutboxMessage).where(
                OutboxMessage.created_at < cutoff, OutboxMessage.purpose.not_in(REFERRED),
                OutboxMessage.status.in_(("sent", "failed", "cancelled"))))
        events = await self.tracker_store.delete_before(cutoff)
        _, files = await asyncio.to_thread(prune_log_files, self.log_folder, now, self.period)
        swept = Swept(cases, _count(lines) + _count(sent), events, files)
        if swept != Swept():
            logger.info("retention: deleted %d cases, %d case messages, %d engine events, %d log files",
                        swept.cases, swept.case_messages, swept.engine_events, swept.log_files)
        return swept

    def start(self) -> None:
        """Sweep now, then every `every` seconds in the background."""
        self._job.start(self.sweep, self.every)

    async def stop(self) -> None:
        await self._job.stop()


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
