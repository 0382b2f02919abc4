"""The last few exchanges of each user with the assistant, shown to the volunteer who takes the case.

Kept under the user's pseudonym, at most `KEEP` per user, and deleted after the retention period.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, desc, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff.models import RecentTurn

KEEP = 4


async def remember(session: AsyncSession, user_key: str, text: str, topic: str | None, now: datetime) -> None:
    """Store one exchange and drop the older ones beyond `KEEP`."""
    session.add(RecentTurn(user_key=user_key, text=text[:1000], topic=topic, created_at=now))
    await session.flush()
    keep = select(RecentTurn.id).where(RecentTurn.user_key == user_key).order_by(desc(RecentTurn.id)).limit(KEEP)
    await session.execute(delete(RecentTurn).where(RecentTurn.user_key == user_key,
                                                   RecentTurn.id.not_in(keep.scalar_subquery())))


async def last_topic(session: AsyncSession, user_key: str) -> str | None:
    topic: str | None = await session.scalar(
        select(RecentTurn.topic).where(RecentTurn.user_key == user_key, RecentTurn.topic.is_not(None))
        .order_by(desc(RecentTurn.id)).limit(1))
    return topic


async def forget(session: AsyncSession, user_key: str) -> None:
    """Delete the user's exchanges (/forget)."""
    await session.execute(delete(RecentTurn).where(RecentTurn.user_key == user_key))
