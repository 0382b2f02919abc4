"""The conversation pipeline with the real trained model and engine."""

import json
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text as sql

from bot.replies import (
    DidNotUnderstand,
    Emergency,
    EngineDown,
    LanguageMenu,
    Notice,
    Said,
    TopicAnswer,
    UnsupportedLanguage,
)
from bot.services import Services, open_services
from bot.settings import Settings

pytestmark = pytest.mark.engine


async def said(services: Services, user_id: int, text: str, hint: str | None = None) -> list[Said]:
    user = services.user(user_id, hint)
    return [item async for item in services.conversation.on_text(user, text)]


async def test_an_arabic_asylum_question_gets_the_registration_answer_in_arabic(live_services: Services) -> None:
    assert await said(live_services, 1, "كيف أقدم طلب لجوء؟") == [Said(TopicAnswer("asylum_registration"), "ar")]


async def test_an_english_arrest_gets_the_detention_answer_in_english(live_services: Services) -> None:
    assert await said(live_services, 2, "I was arrested, what are my rights?") == [
        Said(TopicAnswer("rights_detention"), "en")]


async def test_danger_comes_first_then_the_normal_answer(live_services: Services) -> None:
    replies = await said(live_services, 3, "please help they are beating me")
    assert replies[0] == Said(Emergency(), "en")
    assert Emergency() not in [s.reply for s in replies[1:]]


async def test_asking_to_change_language_shows_the_language_menu(live_services: Services) -> None:
    assert [s.reply for s in await said(live_services, 4, "I want to change the language")] == [LanguageMenu()]


async def test_a_short_reply_keeps_the_conversation_language(live_services: Services) -> None:
    await said(live_services, 5, "كيف أقدم طلب لجوء؟", hint="en")
    assert (await said(live_services, 5, "ok", hint="en"))[0].language == "ar"


async def test_digits_or_emoji_only_are_answered_without_the_engine(live_services: Services) -> None:
    assert [s.reply for s in await said(live_services, 6, "😀😀 123")] == [Notice("no_words")]


async def test_an_unsupported_language_is_told_so(live_services: Services) -> None:
    replies = await said(live_services, 7, "Hola, necesito ayuda con mi solicitud de asilo por favor")
    assert isinstance(replies[0].reply, UnsupportedLanguage)


async def test_gibberish_is_not_forced_into_a_topic(live_services: Services) -> None:
    replies = await said(live_services, 8, "qzx vbnm plokij wertyu")
    assert isinstance(replies[0].reply, DidNotUnderstand | UnsupportedLanguage)


async def test_forget_deletes_preferences_and_the_engines_history(
        live_services: Services, make_settings: Callable[..., Settings]) -> None:
    user = live_services.user(9)
    await said(live_services, 9, "كيف أقدم طلب لجوء؟")
    tracker = live_services.tracker_store._engine  # the engine's own database
    async with tracker.connect() as connection:
        count = "SELECT count(*) FROM events WHERE sender_id = :s"
        assert (await connection.execute(sql(count), {"s": user.engine_id})).scalar_one() > 0
    replies = [s async for s in live_services.conversation.forget(user, confirmed=True)]
    assert [s.reply for s in replies] == [Notice("forgotten")]
    async with tracker.connect() as connection:
        assert (await connection.execute(sql(count), {"s": user.engine_id})).scalar_one() == 0
    async with live_services.sessions() as session:
        rows = await session.execute(sql("SELECT count(*) FROM user_preferences WHERE user_key = :k"), {"k": user.key})
        assert rows.scalar_one() == 0


async def test_the_engine_never_sees_a_telegram_id(live_services: Services) -> None:
    await said(live_services, 777000123, "hello")
    async with live_services.tracker_store._engine.connect() as connection:
        senders = (await connection.execute(sql("SELECT DISTINCT sender_id FROM events"))).scalars().all()
    assert senders and not any("777000123" in s for s in senders)


async def test_when_the_engine_is_down_users_get_an_apology_and_danger_still_works(
        make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(ENGINE_URL="http://127.0.0.1:9", ENGINE_TIMEOUT="0.5")
    async with open_services(settings, start_engine=False) as services:
        assert [s.reply for s in await said(services, 10, "what are my rights at work")] == [EngineDown()]
        assert [s.reply for s in await said(services, 10, "I want to kill myself")] == [Emergency()]
        # A topic button is still answered, from the knowledge base.
        user = services.user(10)
        answered = [s.reply async for s in services.conversation.on_topic(user, "rights_work", "en")]
        assert answered == [TopicAnswer("rights_work")]


async def test_the_engine_channel_requires_the_token_and_never_reads_text_as_an_intent(engine_url: str) -> None:
    from tests.conftest import ENGINE_TOKEN

    async with httpx.AsyncClient(base_url=engine_url) as client:
        body = {"sender": "probe", "text": "/emergency"}
        refused = await client.post("/webhooks/assistant/message", json=body)
        assert refused.status_code == 401
        answered = await client.post("/webhooks/assistant/message", json=body,
                                     headers={"Authorization": f"Bearer {ENGINE_TOKEN}"})
        assert answered.status_code == 200
        # Rasa reads "/emergency" as the intent with confidence exactly 1.0; the channel parses the words.
        assert answered.json()["confidence"] < 1.0


async def test_the_engine_keeps_intents_not_the_users_words(live_services: Services) -> None:
    user = live_services.user(12)
    await said(live_services, 12, "my landlord wants to throw us out tomorrow")
    async with live_services.tracker_store._engine.connect() as connection:
        rows = (await connection.execute(sql("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"),
                                         {"s": user.engine_id})).scalars().all()
    assert rows and all("landlord" not in row for row in rows)
    assert all(json.loads(row)["text"].startswith("/") for row in rows)


async def test_a_long_conversation_starts_new_sessions_so_each_turn_stays_cheap(live_services: Services) -> None:
    user = live_services.user(13)
    for turn in range(70):
        replies = await said(live_services, 13, "where can I find a doctor" if turn % 2 else "كيف أقدم طلب لجوء؟")
        assert isinstance(replies[0].reply, TopicAnswer)
    async with live_services.tracker_store._engine.connect() as connection:
        types = (await connection.execute(sql("SELECT type_name FROM events WHERE sender_id = :s ORDER BY id"),
                                          {"s": user.engine_id})).scalars().all()
    starts = [i for i, kind in enumerate(types) if kind == "session_started"]
    assert len(starts) >= 3  # the first session, then one every 30 turns
    assert len(types) - starts[-1] < 60  # what the engine loads per message stays small
