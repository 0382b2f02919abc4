"""The database briefly locked or away: no update is lost, nobody is left in silence, the handoff stays whole.

A lock shorter than the busy timeout only delays the answers. Longer, or a PostgreSQL database
that refuses connections for a while: the user is asked to send the message again (never a
traceback, never silence), and once the database is back the bot works again on its own, with
one open case per user and every relayed message in the outbox once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select

from bot.handoff.models import Handoff, OutboxMessage
from bot.settings import Settings
from tests.handoff_world import from_user, from_volunteer, hold_case, write_locked
from tests.running_bot import RunningBot, running_bot

pytestmark = pytest.mark.engine

VOLUNTEER, USER, OTHER = 920, 621, 622
SEND_AGAIN = "did not get through because of a technical problem. Please send it again"



@contextlib.asynccontextmanager
async def postgres_away(admin_url: str, url: str) -> AsyncIterator[None]:
    """The bot's database drops every connection and refuses new ones until the block ends."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
    try:
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


async def consistent(bot: RunningBot, label: str, *relayed: str) -> None:
    """One open case per user, and each relayed text once in the outbox."""
    async with bot.services.sessions() as session:
        open_cases = (await session.execute(
            select(Handoff.user_key, func.count()).where(Handoff.status.in_(("waiting", "held")))
            .group_by(Handoff.user_key))).all()
        texts = (await session.scalars(select(OutboxMessage.text).where(OutboxMessage.purpose == "relay"))).all()
    assert open_cases and all(count == 1 for _, count in open_cases)
    for text in relayed:
        assert sum(text in (t or "") for t in texts) == 1, text


async def test_a_short_sqlite_lock_delays_the_answers_and_loses_none(
        engine_url: str, make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with running_bot(make_settings, engine_url, DATABASE_URL=f"sqlite:///{path}") as (fake, bot):
        label = await hold_case(fake, bot, VOLUNTEER, USER)
        with write_locked(path):
            await fake.push(fake.message_update(USER, "are you there?", language_code="en"))
            await fake.push(fake.message_update(VOLUNTEER, "yes, I am", language_code="en"))
            await fake.push(fake.message_update(OTHER, "/menu", language_code="en"))
            await asyncio.sleep(3)  # a few seconds, well inside the busy timeout
        await fake.wait_until(lambda: "are you there?" in from_user(fake, VOLUNTEER, label)
                              and "yes, I am" in from_volunteer(fake, USER) and bool(fake.messages_to(OTHER)))
        await asyncio.sleep(1)
        assert from_user(fake, VOLUNTEER, label) == ["are you there?"]
        assert from_volunteer(fake, USER) == ["yes, I am"]
        assert not any(SEND_AGAIN in m.text for m in fake.sent)
        await consistent(bot, label, "are you there?", "yes, I am")


async def test_a_long_sqlite_lock_asks_for_the_message_again_and_then_relays_it_once(
        engine_url: str, make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with running_bot(make_settings, engine_url, DATABASE_URL=f"sqlite:///{path}?timeout=1") as (fake, bot):
        label = await hold_case(fake, bot, VOLUNTEER, USER)
        with write_locked(path):
            [reply] = await fake.say(fake.message_update(USER, "first try", language_code="en"), wait=15)
            assert SEND_AGAIN in reply.text
        await asyncio.sleep(1.5)  # the outbox and the timers meet the lock too
        await fake.push(fake.message_update(USER, "second try", language_code="en"))
        await fake.wait_until(lambda: "second try" in from_user(fake, VOLUNTEER, label))
        assert from_user(fake, VOLUNTEER, label) == ["second try"]
        await consistent(bot, label, "second try")


async def test_postgres_away_for_a_while_asks_again_and_recovers_with_the_handoff_whole(
        engine_url: str, make_settings: Callable[..., Settings], postgres_admin_url: str, postgres_url: str) -> None:
    async with running_bot(make_settings, engine_url, DATABASE_URL=postgres_url) as (fake, bot):
        label = await hold_case(fake, bot, VOLUNTEER, USER)
        await fake.push(fake.message_update(USER, "before", language_code="en"))
        await fake.wait_until(lambda: "before" in from_user(fake, VOLUNTEER, label))
        async with postgres_away(postgres_admin_url, postgres_url):
            [reply] = await fake.say(fake.message_update(USER, "during", language_code="en"), wait=10)
            assert SEND_AGAIN in reply.text
            [reply] = await fake.say(fake.message_update(VOLUNTEER, "are you there?", language_code="en"), wait=10)
            assert SEND_AGAIN in reply.text
            await asyncio.sleep(2)  # the outbox and the timers meet the outage too
        # Back: the pool reconnects by itself (pre-ping), and the relay goes on.
        await fake.push(fake.message_update(USER, "after", language_code="en"))
        await fake.push(fake.message_update(VOLUNTEER, "yes, here", language_code="en"))
        await fake.wait_until(lambda: "after" in from_user(fake, VOLUNTEER, label)
                              and "yes, here" in from_volunteer(fake, USER))
        await asyncio.sleep(1)
        assert from_user(fake, VOLUNTEER, label) == ["before", "after"]
        assert from_volunteer(fake, USER) == ["yes, here"]
        await consistent(bot, label, "before", "after", "yes, here")
