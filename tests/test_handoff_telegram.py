"""End to end through the fake Bot API with several accounts: two users, three volunteers, one coordinator.

Escalation, the race for Take, relay both ways (text and a photo, as copies), a restart of the bot
in the middle of the chat, close, rating, statistics, and what strangers cannot do.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.running_bot import RunningBot as Bot
from tests.running_bot import join, running_bot

pytestmark = pytest.mark.engine

COORDINATOR, LINA, SAMI, JEAN = 900, 901, 902, 903
AMAL, CLAIRE = 501, 502


@pytest.fixture
async def world(engine_url: str, make_settings: Callable[..., Settings], database_url: str
                ) -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with running_bot(make_settings, engine_url, DATABASE_URL=database_url) as (fake, bot):
        yield fake, bot


def take_button(sent: list[Any]) -> str:
    return next(data for message in sent for _, data in message.buttons if data.startswith("o:take:"))


async def test_a_handoff_from_request_to_rating_survives_a_restart(world: tuple[FakeTelegram, Bot]) -> None:
    fake, bot = world
    invite = await bot.services.handoff.volunteers.create_invite("coordinator")
    await fake.say(fake.message_update(COORDINATOR, f"/volunteer {invite.code}", language_code="en"), expect=2)
    codes = []
    for _ in range(3):
        [reply] = await fake.say(fake.message_update(COORDINATOR, "/invite", language_code="en"))
        codes.append(re.search(r"/volunteer (\w+)", reply.text).group(1))  # type: ignore[union-attr]
    await join(fake, LINA, codes[0], ["ar"], "Lina")
    await join(fake, SAMI, codes[1], ["ar"], "Sami")
    await join(fake, JEAN, codes[2], ["fr"], "Jean")

    # Two users ask for a person; only the volunteers of their language are notified.
    await fake.push(fake.message_update(AMAL, "/human", language_code="ar"))
    await fake.push(fake.message_update(CLAIRE, "/human", language_code="fr"))
    await fake.wait_until(lambda: all(any("o:take:" in str(m.buttons) for m in fake.messages_to(chat))
                                      for chat in (LINA, SAMI, JEAN)))
    [ack] = await fake.wait_for_messages(AMAL, 1)
    assert "1" in ack.text and "/cancel" in ack.text and "\u2066" in ack.text  # Arabic, LTR parts isolated
    amal_take = take_button(fake.messages_to(LINA))
    assert amal_take == take_button(fake.messages_to(SAMI)) != take_button(fake.messages_to(JEAN))

    # Lina and Sami press Take at the same moment: one wins, the other's offer says "taken".
    await fake.push(fake.callback_update(LINA, amal_take, language_code="en"))
    await fake.push(fake.callback_update(SAMI, amal_take, language_code="en"))
    await fake.wait_until(lambda: any("You hold case" in m.text
                                      for m in fake.messages_to(LINA) + fake.messages_to(SAMI)))
    winner = LINA if any("You hold case" in m.text for m in fake.messages_to(LINA)) else SAMI
    loser = SAMI if winner == LINA else LINA
    name = "Lina" if winner == LINA else "Sami"
    await fake.wait_until(lambda: any("taken by another volunteer" in e.text for e in fake.edits_in(loser)))
    card = next(m.text for m in fake.messages_to(winner) if "You hold case" in m.text)
    label = re.search(r"case (\w{4})", card).group(1)  # type: ignore[union-attr]
    assert "Arabic" in card and f"User{AMAL}" not in card and str(AMAL) not in card
    await fake.wait_until(lambda: any(name in m.text for m in fake.messages_to(AMAL)))

    # Relay both ways: text and a photo from the user, as copies; the volunteer's reply under their name.
    await fake.push(fake.message_update(AMAL, "مرحبا، أحتاج مساعدة", language_code="ar"))
    photo = [{"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}]
    await fake.push(fake.message_update(AMAL, None, language_code="ar", photo=photo, caption="ورقة"))
    await fake.wait_until(lambda: any(s.method == "copyMessage" and s.chat_id == winner for s in fake.sent))
    relayed = [m.text for m in fake.messages_to(winner) if m.text.startswith(f"[{label}]")]
    assert relayed == [f"[{label}] مرحبا، أحتاج مساعدة"]
    copy = next(s for s in fake.sent if s.method == "copyMessage" and s.chat_id == winner)
    assert int(copy.params["from_chat_id"]) == AMAL and copy.params["caption"] == f"[{label}] ورقة"
    before = len(fake.messages_to(AMAL))
    await fake.push(fake.message_update(winner, "Hello, I am here. What happened?", language_code="en"))
    await fake.wait_until(lambda: len(fake.messages_to(AMAL)) > before)
    assert fake.messages_to(AMAL)[-1].text.endswith("Hello, I am here. What happened?")
    assert name in fake.messages_to(AMAL)[-1].text

    # Restart the bot in the middle of the chat: nothing is lost and the relay goes on.
    await bot.stop()
    await bot.start()
    await fake.push(fake.message_update(AMAL, "هل ما زلت هنا؟", language_code="ar"))
    await fake.wait_until(lambda: any(m.text == f"[{label}] هل ما زلت هنا؟" for m in fake.messages_to(winner)))
    assert not any("المفوضية" in m.text for m in fake.messages_to(AMAL)[before + 1:])  # the engine stayed out

    # Close: the user is back with the assistant and rates the conversation.
    await fake.push(fake.message_update(winner, "/close", language_code="en"))
    await fake.wait_until(lambda: any("o:rate:" in str(m.buttons) for m in fake.messages_to(AMAL)))
    closing = next(m for m in fake.messages_to(AMAL) if "o:rate:" in str(m.buttons))
    five = next(data for _, data in closing.buttons if data.endswith(":5"))
    count = len(fake.messages_to(AMAL))
    await fake.push(fake.callback_update(AMAL, five, language_code="ar"))
    await fake.wait_until(lambda: len(fake.messages_to(AMAL)) > count)
    [reply] = await fake.say(fake.message_update(AMAL, "كيف أقدم طلب لجوء؟", language_code="ar"))
    assert "لجوء" in reply.text  # the assistant answers again
    assert not any("لجوء" in m.text for m in fake.messages_to(winner)[-1:])

    [stats] = await fake.say(fake.message_update(COORDINATOR, "/stats", language_code="en"))
    assert "Ratings: 1, average 5.0" in stats.text and "Waiting now: 1" in stats.text  # Claire still waits

    # Nobody relays with forwards, which would reveal the sender.
    assert not any(s.method == "forwardMessage" for s in fake.sent)


async def test_strangers_cannot_use_volunteer_commands_or_take_cases(world: tuple[FakeTelegram, Bot]) -> None:
    fake, bot = world
    await fake.push(fake.message_update(AMAL, "/human", language_code="en"))
    await fake.wait_until(lambda: len(fake.messages_to(AMAL)) >= 1)
    case_id = (await bot.services.handoff.relay.open_case(bot.services.user(AMAL).key)).id
    for command in ("/queue", "/stats", "/invite", "/close", "/transcript ABCD"):
        [reply] = await fake.say(fake.message_update(CLAIRE, command, language_code="en"))
        assert "I do not know the command" in reply.text
    await fake.push(fake.callback_update(CLAIRE, f"o:take:{case_id}", language_code="en"))
    await fake.wait_until(lambda: sum(s.method == "answerCallbackQuery" for s in fake.sent) >= 1)
    assert (await bot.services.handoff.relay.open_case(bot.services.user(AMAL).key)).status == "waiting"
    [reply] = await fake.say(fake.message_update(CLAIRE, "/volunteer wrongcode", language_code="en"))
    assert "not valid" in reply.text
