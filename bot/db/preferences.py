"""Repository functions for user preferences."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import UserPreference


async def get_preferences(session: AsyncSession, user_key: str) -> UserPreference | None:
    """The user's stored preferences, or None for a user we know nothing about."""
    preference: UserPreference | None = await session.scalar(
        select(UserPreference).where(UserPreference.user_key == user_key)
    )
    return preference


async def save_languages(
    session: AsyncSession, user_key: str, *, last: str, chosen: str | None = None
) -> None:
    """Remember the language of the conversation, and the explicit choice when one was made."""
    preference = await get_preferences(session, user_key)
    if preference is None:
        preference = UserPreference(user_key=user_key)
        session.add(preference)
    preference.last_language = last
    if chosen is not None:
        preference.chosen_language = chosen


async def forget_user(session: AsyncSession, user_key: str) -> int:
    """Delete everything stored under this user's key; returns the number of rows removed."""
    result = await session.execute(delete(UserPreference).where(UserPreference.user_key == user_key))
    return int(getattr(result, "rowcount", 0) or 0)


async def note_understanding(session: AsyncSession, user_key: str, *, understood: bool) -> int:
    """Count answers in a row the engine did not understand; returns the new count."""
    preference = await get_preferences(session, user_key)
    if preference is None:
        preference = UserPreference(user_key=user_key, misunderstood=0)
        session.add(preference)
    preference.misunderstood = 0 if understood else (preference.misunderstood or 0) + 1
    return preference.misunderstood


async def set_pending(session: AsyncSession, user_key: str, pending: str | None, now: datetime) -> None:
    """Remember what a guided flow waits for from this user (None: nothing)."""
    preference = await get_preferences(session, user_key)
    if preference is None:
        if pending is None:
            return
        preference = UserPreference(user_key=user_key)
        session.add(preference)
    preference.pending = pending
    preference.pending_at = now if pending is not None else None


def pending_of(preference: UserPreference | None, now: datetime, valid_for: timedelta) -> str | None:
    """What a flow waits for, if it asked recently enough that the user still means it."""
    if preference is None or preference.pending is None or preference.pending_at is None:
        return None
    return preference.pending if now - preference.pending_at <= valid_for else None
