"""When the conversation passes a user to a person: asked, emergency, or not understood twice in a row."""

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.handoff.models import Handoff, OutboxMessage
from bot.replies import DidNotUnderstand, Emergency, Said, TopicAnswer
from bot.services import Services, open_services
from bot.settings import Settings

pytestmark = pytest.mark.engine


async def said(services: Services, user_id: int, text: str) -> list[Said]:
    return [item async for item in services.conversation.on_text(services.user(user_id), text)]


async def open_case(services: Services, user_id: int) -> Handoff | None:
    return await services.handoff.relay.open_case(services.user(user_id).key)


async def test_asking_for_a_person_queues_the_user_and_says_what_helps_meanwhile(live_services: Services) -> None:
    user = live_services.user(301, "en")
    replies = [s async for s in live_services.conversation.on_topic(user, "request_human", "en")]
    assert replies == []  # the acknowledgement comes from the queue
    case = await open_case(live_services, 301)
    assert case is not None and case.reason == "asked" and not case.urgent
    async with live_services.sessions() as session:
        ack = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == case.ack_outbox_id))
    assert ack is not None and ack.chat_id == 301
    assert "no volunteer who speaks your language is online" in (ack.text or "")
    assert "https://help.unhcr.org/" in (ack.text or "")  # what helps now


async def test_asking_in_words_escalates_too(live_services: Services) -> None:
    replies = await said(live_services, 302, "I want to talk to a real person please")
    assert not any(isinstance(s.reply, TopicAnswer) and s.reply.topic == "request_human" for s in replies)
    case = await open_case(live_services, 302)
    assert case is not None and case.reason == "asked"


async def test_an_emergency_is_answered_first_and_queued_as_urgent(live_services: Services) -> None:
    replies = await said(live_services, 303, "I want to kill myself")
    assert replies[0] == Said(Emergency(), "en")
    case = await open_case(live_services, 303)
    assert case is not None and case.urgent and case.reason == "emergency"


async def test_two_answers_in_a_row_not_understood_bring_a_person(live_services: Services) -> None:
    first = await said(live_services, 304, "what is the best pizza recipe in naples")
    assert await open_case(live_services, 304) is None
    second = await said(live_services, 304, "which football team will win the cup this year")
    not_understood = [r for r in (*first, *second)
                      if isinstance(r.reply, DidNotUnderstand) or r.reply == TopicAnswer("out_of_scope")]
    assert len(not_understood) == 2
    case = await open_case(live_services, 304)
    assert case is not None and case.reason == "not_understood"


async def test_one_understood_answer_resets_the_count(live_services: Services) -> None:
    await said(live_services, 305, "what is the best pizza recipe in naples")
    await said(live_services, 305, "I was arrested, what are my rights?")
    await said(live_services, 305, "which football team will win the cup this year")
    assert await open_case(live_services, 305) is None


async def test_an_emergency_is_queued_even_when_the_engine_is_down(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(ENGINE_URL="http://127.0.0.1:9", ENGINE_TIMEOUT="0.5")
    async with open_services(settings, start_engine=False) as services:
        assert [s.reply for s in await said(services, 306, "I want to kill myself")] == [Emergency()]
        case = await open_case(services, 306)
        assert case is not None and case.urgent
