"""Flood limits: how fast a user may write, counted in the database so every bot process agrees.

Each user has a token bucket per scope: "assistant" (what the assistant answers) and "handoff"
(what is relayed to the volunteer holding their case, a higher limit so a conversation with a
person is rarely cut). A bucket holds `per_minute + burst` messages and refills at `per_minute`
a minute: on average `per_minute`, and a short burst on top. A message that finds the bucket
empty is not passed on; the first such message in a minute gets the "slow down" notice, the
others none, so a flood never turns into a flood of notices.

Buckets live in the database, not in one process's memory, so the limit holds with several bot
processes (webhooks behind a load balancer). Two processes updating one bucket at once are
settled by a compare-and-set on its `version`: the loser reads the bucket again. A bucket idle
for an hour is full again and is deleted, so the table holds only who wrote in the last hour.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import FloodBucket
from bot.db.retry import is_conflict
from bot.settings import FloodPolicy

logger = logging.getLogger(__name__)

Scope = Literal["assistant", "handoff"]
Admission = Literal["pass", "warn", "drop"]  # warn: not passed on, and the user is told to slow down
WARN_EVERY = timedelta(minutes=1)
IDLE = timedelta(hours=1)
ATTEMPTS = 20


def utc_now() -> datetime:
    return datetime.now(UTC)


class FloodLimiter:
    """Decides whether a user's next message may pass, in one short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: FloodPolicy,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.sessions = sessions
        self.policy = policy
        self.clock = clock
        self._purged_at: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.policy.per_minute > 0

    def _shape(self, scope: Scope) -> tuple[float, float]:
        """(capacity, refill per second) of a scope's bucket."""
        rate = self.policy.handoff_per_minute if scope == "handoff" else self.policy.per_minute
        return rate + self.policy.burst, rate / 60

    async def admit(self, user_key: str, scope: Scope = "assistant") -> Admission:
        """Count one message of the user: it passes, or it is held back (with the notice or without)."""
        if not self.enabled:
            return "pass"
        await self._purge_now_and_then()
        for attempt in range(ATTEMPTS):
            try:
                admission = await self._try(user_key, scope)
            except IntegrityError:  # another process created the bucket first
                admission = None
            except DBAPIError as error:
                # A lock is not contention: SQLite already waited its whole busy timeout for it.
                if not is_conflict(error) or "database is locked" in str(error.orig):
                    raise
                admission = None
            if admission is not None:
                return admission
            await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # jitter
        logger.warning("flood bucket contended %d times; message let through", ATTEMPTS)
        return "pass"

    async def _try(self, user_key: str, scope: Scope) -> Admission | None:
        """One compare-and-set round; None when another process changed the bucket meanwhile."""
        capacity, refill = self._shape(scope)
        now = self.clock()
        async with self.sessions.begin() as session:
            bucket = await session.get(FloodBucket, (user_key, scope))
            if bucket is None:
                session.add(FloodBucket(user_key=user_key, scope=scope, tokens=capacity - 1, updated_at=now,
                                        version=0))
                await session.flush()
                return "pass"
            elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
            tokens = min(capacity, bucket.tokens + elapsed * refill)
            warned_at = bucket.warned_at
            admission: Admission
            if tokens >= 1:
                tokens -= 1
                admission = "pass"
            elif warned_at is None or now - warned_at >= WARN_EVERY:
                admission, warned_at = "warn", now
            else:
                admission = "drop"
            changed = await session.execute(
                update(FloodBucket)
                .where(FloodBucket.user_key == user_key, FloodBucket.scope == scope,
                       FloodBucket.version == bucket.version)
                .values(tokens=tokens, updated_at=now, warned_at=warned_at, version=bucket.version + 1)
                .execution_options(synchronize_session=False))
            return admission if getattr(changed, "rowcount", 0) == 1 else None

    async def _purge_now_and_then(self) -> None:
        """Delete buckets idle for an hour (they are full again), at most once an hour per process."""
        now = self.clock()
        if self._purged_at is not None and now - self._purged_at < IDLE:
            return
        self._purged_at = now
        try:
            async with self.sessions.begin() as session:
                await session.execute(delete(FloodBucket).where(FloodBucket.updated_at < now - IDLE))
        except DBAPIError as error:  # another process purges at the same moment: either is enough
            logger.info("flood buckets not purged: %s", type(error).__name__)


async def forget_user(session: AsyncSession, user_key: str) -> None:
    """Delete the user's buckets (/forget)."""
    await session.execute(delete(FloodBucket).where(FloodBucket.user_key == user_key))
