"""/forget removes the user from every store: every table of the bot's and the engine's databases.

A full conversation through the real bot on the fake Bot API and the real engine: questions to the
assistant, a handoff with messages relayed both ways (text and a photo), a volunteer's /good, the
rating, a second request still waiting, then /forget. Both databases are scanned, every table and
column found by inspection, for the user's Telegram id, chat id, both pseudonyms and their words.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pytest
from sqlalchemy import Connection, MetaData, inspect, select

from bot.db.session import create_engine
from bot.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.running_bot import RunningBot, register, reply_to, running_bot

pytestmark = pytest.mark.engine

USER = 7412358901  # a private chat's id is the user's id
VOLUNTEER, COORDINATOR = 6120000457, 6120000458
# Each text the user sends carries a word found nowhere else, so what is stored of it can be recognised.
QUESTION = "How do I apply for asylum? My name is Zorabel Quintaro."
WAITING = "Is a lawyer free? I am Zorabel, please call +90 532 981 44 17"
RELAYED = "Vestrunika needs help at the border crossing"
CAPTION = "Ormandeq passport page"
SECOND = "I need a person again, Yllavander here"
WORDS = ("Zorabel", "Quintaro", "Vestrunika", "Ormandeq", "Yllavander", "981 44 17")


@pytest.fixture
async def world(engine_url: str, make_settings: Callable[..., Settings], database_url: str
                ) -> AsyncIterator[tuple[FakeTelegram, RunningBot]]:
    async with running_bot(make_settings, engine_url, DATABASE_URL=database_url) as (fake, bot):
        await register(fake, bot, COORDINATOR, "Nour", role="coordinator")
        await register(fake, bot, VOLUNTEER, "Lina")
        yield fake, bot


async def test_forget_leaves_nothing_of_the_user_in_either_database(world: tuple[FakeTelegram, RunningBot]) -> None:
    fake, bot = world
    user = bot.services.user(USER)
    needles = (str(USER), user.key, user.engine_id, *WORDS)
    databases = (bot.settings.database_url, bot.settings.engine_database_url)
    await conversation_with_a_handoff(fake)

    before = {hit[1] for url in databases for hit in await scan(url, needles)}
    # The scan sees every store the conversation wrote to (so its silence afterwards means something).
    assert {"user_preferences", "recent_turns", "handoffs", "handoff_messages", "outbox",
            "good_answers", "events"} <= before

    [confirm] = await fake.say(fake.message_update(USER, "/forget", language_code="en"))
    assert "f:yes" in [data for _, data in confirm.buttons]
    [done] = await fake.say(fake.callback_update(USER, "f:yes", language_code="en"))
    assert "I deleted everything stored about you" in done.text
    # The volunteer's Take button of the waiting request still changes, without the person behind it.
    await fake.wait_until(lambda: any("is no longer waiting" in e.text for e in fake.edits_in(VOLUNTEER)))

    left = [hit for url in databases for hit in await scan(url, needles)]
    assert left == []


async def conversation_with_a_handoff(fake: FakeTelegram) -> None:
    """The user asks, is passed to a volunteer, writes and gets answers, rates, and asks for a person again."""
    await fake.say(fake.message_update(USER, "/start", language_code="en"))
    await fake.say(fake.message_update(USER, QUESTION, language_code="en"))
    await fake.push(fake.message_update(USER, "/human", language_code="en"))
    await fake.wait_until(lambda: bool(takes(fake)))
    await fake.say(fake.message_update(USER, WAITING, language_code="en"))  # the assistant answers meanwhile
    await fake.push(fake.callback_update(VOLUNTEER, takes(fake)[-1], language_code="en"))
    await fake.wait_until(lambda: any("You hold case" in m.text for m in fake.messages_to(VOLUNTEER)))
    card = next(m.text for m in fake.messages_to(VOLUNTEER) if "You hold case" in m.text)
    label = re.search(r"case (\w{4})", card).group(1)  # type: ignore[union-attr]

    await fake.push(fake.message_update(USER, RELAYED, language_code="en"))
    photo = [{"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}]
    await fake.push(fake.message_update(USER, None, language_code="en", photo=photo, caption=CAPTION))
    await fake.wait_until(lambda: any(s.method == "copyMessage" and s.chat_id == VOLUNTEER for s in fake.sent))
    assert any(m.text == f"[{label}] {RELAYED}" for m in fake.messages_to(VOLUNTEER))
    answer = fake.message_update(VOLUNTEER, "Hello, I am here. Which border crossing?", language_code="en")
    await fake.push(answer)
    await fake.wait_until(lambda: any(m.text.endswith("Which border crossing?") for m in fake.messages_to(USER)))
    good = {"reply_to_message": reply_to(VOLUNTEER, answer["message"]["message_id"])}
    [marked] = await fake.say(fake.message_update(VOLUNTEER, "/good", language_code="en", **good))
    assert "review list" in marked.text

    await fake.push(fake.message_update(VOLUNTEER, "/close", language_code="en"))
    await fake.wait_until(lambda: any("o:rate:" in str(m.buttons) for m in fake.messages_to(USER)))
    closing = next(m for m in fake.messages_to(USER) if "o:rate:" in str(m.buttons))
    five = next(data for _, data in closing.buttons if data.endswith(":5"))
    [thanks] = await fake.say(fake.callback_update(USER, five, language_code="en"))
    assert "Thank you for your rating" in thanks.text
    await fake.say(fake.message_update(USER, "/cancel", language_code="en"))  # nothing to cancel: a plain notice
    offered = len(takes(fake))
    await fake.say(fake.message_update(USER, SECOND, language_code="en"))
    await fake.push(fake.message_update(USER, "/human", language_code="en"))
    await fake.wait_until(lambda: len(takes(fake)) > offered)


def takes(fake: FakeTelegram) -> list[str]:
    return [data for m in fake.messages_to(VOLUNTEER) for _, data in m.buttons if data.startswith("o:take:")]


async def scan(url: str, needles: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """(database, table, column, needle) for every value in every table of `url` that contains a needle."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_scan, url, tuple(needles))
    finally:
        await engine.dispose()


def _scan(connection: Connection, url: str, needles: tuple[str, ...]) -> list[tuple[str, str, str, str]]:
    metadata = MetaData()
    metadata.reflect(connection, only=inspect(connection).get_table_names())
    hits = []
    for table in metadata.sorted_tables:
        for row in connection.execute(select(table)).mappings():
            for column, value in row.items():
                hits += [(url.rsplit("/", 1)[-1], table.name, column, needle)
                         for needle in needles if needle in _text(value)]
    return hits


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
