"""End to end: the real python-telegram-bot application, a fake Bot API server, the real engine."""

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.settings import Settings
from tests.fake_telegram import FakeTelegram, bot_on_fake_telegram

pytestmark = pytest.mark.engine


@pytest.fixture
async def telegram(engine_url: str, make_settings: Callable[..., Settings]) -> AsyncIterator[FakeTelegram]:
    async with bot_on_fake_telegram(make_settings) as fake:
        yield fake


async def test_start_shows_a_welcome_the_privacy_notice_and_the_main_menu(telegram: FakeTelegram) -> None:
    [reply] = await telegram.say(telegram.message_update(101, "/start", language_code="en"))
    assert "not legal advice" in reply.text and "30 days" in reply.text
    assert [label for label, _ in reply.buttons] == [
        "Rights", "Asylum steps", "Find services", "Talk to a person", "Language"]
    assert "parse_mode" not in reply.params


async def test_an_arabic_question_is_answered_in_arabic(telegram: FakeTelegram) -> None:
    [reply] = await telegram.say(telegram.message_update(102, "كيف أقدم طلب لجوء؟", language_code="en"))
    assert "المفوضية" in reply.text or "لجوء" in reply.text
    assert "\u2066" in reply.text  # left-to-right fragments isolated


async def test_an_english_question_is_answered_in_english(telegram: FakeTelegram) -> None:
    [reply] = await telegram.say(telegram.message_update(103, "I was arrested, what are my rights?"))
    assert "Last reviewed" in reply.text and "arrest" in reply.text.lower()


async def test_the_language_command_and_buttons_change_the_language(telegram: FakeTelegram) -> None:
    [menu] = await telegram.say(telegram.message_update(104, "/language"))
    assert ("فارسی", "l:fa") in menu.buttons
    replies = await telegram.say(telegram.callback_update(104, "l:fa"), expect=2)
    assert "فارسی" in replies[0].text
    # The choice is stored: an English question is now answered in Persian.
    [answer] = await telegram.say(telegram.message_update(104, "I was arrested, what are my rights?"))
    assert any(s.method == "answerCallbackQuery" for s in telegram.sent)
    assert "بازداشت" in answer.text and "انگلیسی" not in answer.text  # answered in Persian itself


async def test_menu_buttons_lead_to_answers(telegram: FakeTelegram) -> None:
    [area] = await telegram.say(telegram.callback_update(105, "a:rights", language_code="ar"))
    assert ("t:rights_detention" in [data for _, data in area.buttons])
    [answer] = await telegram.say(telegram.callback_update(105, "t:rights_detention", language_code="ar"))
    entry_title = "الاحتجاز"
    assert entry_title in answer.text


async def test_forged_button_data_gets_the_menu(telegram: FakeTelegram) -> None:
    [reply] = await telegram.say(telegram.callback_update(106, "t:'; DROP TABLE users; --"))
    assert "no longer valid" in reply.text and len(reply.buttons) == 5


@pytest.mark.parametrize(("content", "expected"), [
    ({"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1,
                  "is_animated": False, "is_video": False}}, "only read text"),
    ({"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}}, "voice messages"),
    ({"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]}, "photos"),
    ({"document": {"file_id": "d", "file_unique_id": "d"}}, "files"),
    ({"location": {"latitude": 41.0, "longitude": 29.0}}, "What kind of help"),  # a location opens the service finder
])
async def test_messages_that_are_not_text_are_explained(
        telegram: FakeTelegram, content: dict[str, Any], expected: str) -> None:
    [reply] = await telegram.say(telegram.message_update(107, **content))
    assert expected in reply.text


async def test_unknown_commands_are_answered_by_the_bot(telegram: FakeTelegram) -> None:
    [reply] = await telegram.say(telegram.message_update(108, "/rights_detention please"))
    assert "I do not know the command /rights_detention" in reply.text


async def test_an_edited_message_is_answered_as_the_corrected_question(telegram: FakeTelegram) -> None:
    [reply] = await telegram.say(telegram.message_update(109, "I was arrested, what are my rights?", edited=True))
    assert "Last reviewed" in reply.text


async def test_a_huge_message_is_answered(telegram: FakeTelegram) -> None:
    [reply] = await telegram.say(telegram.message_update(110, ("I need a lawyer please " * 200)[:4096]))
    assert reply.text


async def test_group_chats_are_ignored_on_purpose(telegram: FakeTelegram) -> None:
    await telegram.push(telegram.message_update(111, "hello", chat_type="group"))
    [reply] = await telegram.say(telegram.message_update(112, "/help"))
    assert "/menu" in reply.text
    assert telegram.messages_to(-100 - 111) == []


async def test_forget_asks_first_and_then_deletes(telegram: FakeTelegram) -> None:
    [question] = await telegram.say(telegram.message_update(113, "/forget"))
    assert [data for _, data in question.buttons] == ["f:yes", "f:no"]
    [done] = await telegram.say(telegram.callback_update(113, "f:yes"))
    assert "deleted everything" in done.text


async def test_logs_hold_no_message_text_names_or_ids(telegram: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    user_id = 987654321
    secret_text = "My name is Zainab Haddad, phone +90 555 123 4567, I was arrested yesterday"
    await telegram.say(telegram.message_update(user_id, "/start"))
    await telegram.say(telegram.message_update(user_id, secret_text))
    await telegram.say(telegram.message_update(user_id, "ساعدوني عم يضربوني"))
    await telegram.say(telegram.callback_update(user_id, "t:rights_police"))
    logged = caplog.text
    assert "intent=" in logged  # the log does say what happened
    for leak in ("Zainab", "Haddad", "555 123", "arrested yesterday", "يضربوني", str(user_id), f"User{user_id}",
                 telegram.token):
        assert leak not in logged
