"""Telegram's refusals, handled as Telegram documents them, with nothing lost in the relay.

429 with retry_after: sent again after the wait, once, in order. 403 (the user blocked the bot):
the case ends and the volunteer is told, without retries. 400 "message is too long": sent in
parts. 400 BUTTON_DATA_INVALID: sent without the buttons. A timeout: sent again, so at least
once; when the first call did reach Telegram the message arrives twice, and that copy is flagged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select

from bot.handoff.models import Handoff, OutboxMessage
from bot.handoff.outbox import MAYBE_TWICE
from bot.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.handoff_world import from_volunteer, hold_case
from tests.running_bot import RunningBot, running_bot

pytestmark = pytest.mark.engine

VOLUNTEER, USER, OTHER = 910, 611, 612
BLOCKED = "Forbidden: bot was blocked by the user"
TIMEOUT = 7.0  # longer than python-telegram-bot waits for an answer (5 s)

World = tuple[FakeTelegram, RunningBot, str]


@pytest.fixture
async def world(engine_url: str, make_settings: Callable[..., Settings], database_url: str) -> AsyncIterator[World]:
    """A volunteer holding USER's case."""
    async with running_bot(make_settings, engine_url, DATABASE_URL=database_url) as (fake, bot):
        yield fake, bot, await hold_case(fake, bot, VOLUNTEER, USER)


def relayed_to_user(fake: FakeTelegram) -> list[str]:
    return from_volunteer(fake, USER)


async def volunteer_says(fake: FakeTelegram, *texts: str) -> None:
    for text in texts:
        await fake.push(fake.message_update(VOLUNTEER, text, language_code="en"))


async def test_flood_control_is_waited_out_and_each_message_arrives_once_in_order(world: World) -> None:
    fake, _, _ = world
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2, chat_id=USER)
    await volunteer_says(fake, "one", "two", "three")
    await fake.wait_until(lambda: len(relayed_to_user(fake)) >= 3)
    assert relayed_to_user(fake) == ["one", "two", "three"]
    [refused] = [s for s in fake.refused if s.chat_id == USER]
    first = next(m for m in fake.messages_to(USER) if m.text.endswith("\none"))
    assert first.at - refused.at >= 2.0  # Telegram's retry_after was honoured

    # A direct reply waits too, rather than being lost.
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=OTHER)
    [reply] = await fake.say(fake.message_update(OTHER, "/menu", language_code="en"))
    assert reply.buttons and reply.at - fake.refused[-1].at >= 1.0


async def test_a_user_who_blocked_the_bot_ends_the_case_and_the_volunteer_is_told(world: World) -> None:
    fake, bot, label = world
    fake.fail("sendMessage", 403, BLOCKED, chat_id=USER, times=20)
    await volunteer_says(fake, "are you still there?")
    await fake.wait_until(lambda: any("has blocked the bot" in m.text for m in fake.messages_to(VOLUNTEER)))
    notice = next(m.text for m in fake.messages_to(VOLUNTEER) if "has blocked the bot" in m.text)
    assert label in notice and "closed" in notice
    assert len([s for s in fake.refused if s.chat_id == USER]) == 1  # never retried
    async with bot.services.sessions() as session:
        case = await session.scalar(select(Handoff).where(Handoff.label == label))
        waiting = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == USER,
                                                                   OutboxMessage.status == "pending"))
    assert case is not None and (case.status, case.closed_by) == ("closed", "blocked") and waiting is None

    # The volunteer holds nothing now: what they write is not relayed, and nobody retries the person.
    before = len(fake.messages_to(USER))
    await fake.say(fake.message_update(VOLUNTEER, "hello?", language_code="en"))
    assert len([s for s in fake.refused if s.chat_id == USER]) == 1 and len(fake.messages_to(USER)) == before


async def test_a_message_too_long_for_telegram_arrives_whole_in_parts(world: World) -> None:
    fake, _, label = world
    words = " ".join(f"word{i}" for i in range(700))[:4096]  # the longest message a user can send
    before = len(fake.messages_to(VOLUNTEER))
    await fake.push(fake.message_update(USER, words, language_code="en"))
    await fake.wait_until(lambda: len(fake.messages_to(VOLUNTEER)) >= before + 2)
    parts = [m.text for m in fake.messages_to(VOLUNTEER)[before:]]
    assert len(parts) == 2 and all(len(part) <= 4096 for part in parts)
    assert " ".join(parts).removeprefix(f"[{label}] ").split() == words.split()
    assert not any(s.chat_id == VOLUNTEER for s in fake.refused)  # split before Telegram had to refuse

    # A caption over 1024 characters goes first as a message of its own, then the photo.
    photo = [{"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}]
    caption = "x" * 1024
    await fake.push(fake.message_update(USER, None, language_code="en", photo=photo, caption=caption))
    await fake.wait_until(lambda: any(s.method == "copyMessage" for s in fake.delivered_to(VOLUNTEER)))
    *_, text, copy = fake.delivered_to(VOLUNTEER)
    assert text.text == f"[{label}] {caption}" and copy.method == "copyMessage" and not copy.params.get("caption")


async def test_buttons_telegram_refuses_are_left_off_and_the_text_still_arrives(world: World) -> None:
    fake, _, _ = world
    fake.fail("sendMessage", 400, "Bad Request: BUTTON_DATA_INVALID", chat_id=OTHER)
    [menu] = await fake.say(fake.message_update(OTHER, "/menu", language_code="en"))
    assert menu.text and not menu.buttons

    fake.fail("sendMessage", 400, "Bad Request: BUTTON_DATA_INVALID", chat_id=USER)
    await fake.push(fake.message_update(VOLUNTEER, "/close", language_code="en"))  # the closing has rating buttons
    await fake.wait_until(lambda: any("volunteer ended" in m.text for m in fake.messages_to(USER)))
    closing = next(m for m in fake.messages_to(USER) if "volunteer ended" in m.text)
    assert not closing.buttons and [s.method for s in fake.refused] == ["sendMessage", "sendMessage"]


async def test_a_timed_out_send_is_retried_at_least_once_and_a_possible_copy_is_flagged(world: World) -> None:
    fake, bot, _ = world
    # Telegram carried out the call but its answer came too late: the retry makes a second copy.
    fake.stall("sendMessage", TIMEOUT, delivered=True)
    await volunteer_says(fake, "first")
    await fake.wait_until(lambda: relayed_to_user(fake).count("first") >= 2, wait=30)
    await volunteer_says(fake, "second")
    await fake.wait_until(lambda: "second" in relayed_to_user(fake), wait=30)
    assert relayed_to_user(fake) == ["first", "first", "second"]  # in order; one copy more, no more
    for _ in range(50):  # the bot records the second send a moment after Telegram has it
        async with bot.services.sessions() as session:
            relayed = (await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == USER,
                                                                         OutboxMessage.purpose == "relay"))).all()
        if all(m.status == "sent" for m in relayed):
            break
        await asyncio.sleep(0.1)
    assert [(m.status, MAYBE_TWICE in (m.error or "")) for m in relayed] == [("sent", True), ("sent", False)]

    # The call never reached Telegram: the retry delivers the only copy.
    fake.stall("sendMessage", TIMEOUT, delivered=False)
    await volunteer_says(fake, "third")
    await fake.wait_until(lambda: "third" in relayed_to_user(fake), wait=30)
    assert relayed_to_user(fake) == ["first", "first", "second", "third"]

    # A direct reply is sent again too.
    fake.stall("sendMessage", TIMEOUT, delivered=False)
    replies = await fake.say(fake.message_update(OTHER, "/menu", language_code="en"), wait=30)
    assert len(replies) == 1 and replies[0].buttons
