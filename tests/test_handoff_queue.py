"""The queue's rules against real SQLite and PostgreSQL: routing, priority, claims, transfers, timers, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.handoff.models import Handoff, OutboxMessage, RecentTurn, TranscriptEntry
from bot.handoff.relay import Incoming, has_contact_details
from bot.handoff.service import Handoff as HandoffService
from bot.services import Services
from bot.settings import HandoffPolicy
from tests.handoff_helpers import (
    Clock,
    RecordingSender,
    RetryLater,
    Undeliverable,
    add_volunteer,
    build_handoff,
    drain,
    requester,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def handoff(db_services: Services, clock: Clock) -> HandoffService:
    return build_handoff(db_services, clock)


async def case_of(handoff: HandoffService, case_id: int) -> Handoff:
    async with handoff.desk.sessions() as session:
        case = await session.get(Handoff, case_id)
        assert case is not None
        return case


async def test_request_notifies_online_volunteers_of_the_language_skilled_first(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"], name="Lina")
    await add_volunteer(handoff, 2, ["ar"], skills=["medical"], name="Sami")
    await add_volunteer(handoff, 3, ["fr"], name="Jean")
    await add_volunteer(handoff, 4, ["ar"], online=False, name="Omar")
    sender = RecordingSender()
    case = await handoff.queue.request(requester(1), "asked", "rights_health")
    await drain(handoff, sender)
    assert case.required_skill == "medical"
    assert [d.buttons for d in sender.to(2)] == [[[["Take", f"o:take:{case.id}"]]]]
    assert sender.to(1) == [] and sender.to(3) == [] and sender.to(4) == []  # skill preferred; fr; offline
    ack = sender.texts_to(requester(1).chat_id)
    assert len(ack) == 1 and "1" in ack[0]


async def test_urgent_requests_reach_every_matching_volunteer_and_go_first(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"], skills=["legal"])
    await add_volunteer(handoff, 2, ["ar"])
    sender = RecordingSender()
    normal = await handoff.queue.request(requester(1), "asked", "rights_detention")
    urgent = await handoff.queue.request(requester(2), "emergency", "emergency", urgent=True)
    await drain(handoff, sender)
    assert any(f"o:take:{urgent.id}" in str(d.buttons) for d in sender.to(2))  # not only the skilled one
    async with handoff.desk.sessions() as session:
        assert await handoff.desk.position(session, await session.get(Handoff, urgent.id)) == 1  # type: ignore[arg-type]
        assert await handoff.desk.position(session, await session.get(Handoff, normal.id)) == 2  # type: ignore[arg-type]


async def test_one_open_request_per_user(handoff: HandoffService) -> None:
    first = await handoff.queue.request(requester(1), "asked")
    again = await handoff.queue.request(requester(1), "asked")
    assert again.id == first.id
    async with handoff.desk.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Handoff)) == 1


async def test_first_take_wins_and_the_others_see_it_taken(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    await add_volunteer(handoff, 2, ["ar"])
    sender = RecordingSender()
    case = await handoff.queue.request(requester(1), "asked")
    await drain(handoff, sender)
    assert (await handoff.queue.take(1, case.id))[0] == "taken"
    assert (await handoff.queue.take(2, case.id))[0] == "lost"
    await drain(handoff, sender)
    edits = [d for d in sender.to(2) if d.edit_message_id is not None]
    assert edits and "taken by another volunteer" in (edits[-1].text or "")
    card = [t for t in sender.texts_to(1) if "You hold case" in t]
    assert card and case.label in card[0] and "Arabic" in card[0]
    assert "User" not in card[0] and str(requester(1).chat_id) not in card[0]  # no identity on the card
    texts = handoff.desk.texts
    assert texts.connected("ar", "Amina").text in sender.texts_to(requester(1).chat_id)


async def test_nobody_can_take_a_case_not_offered_to_them(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    await add_volunteer(handoff, 2, ["fr"])
    case = await handoff.queue.request(requester(1), "asked")
    assert (await handoff.queue.take(999, case.id))[0] == "not_offered"  # not a volunteer at all
    assert (await handoff.queue.take(2, case.id))[0] == "not_offered"  # a volunteer, other language
    assert (await handoff.queue.take(1, case.id + 1000))[0] == "not_offered"  # forged case number
    assert (await case_of(handoff, case.id)).status == "waiting"


async def test_a_volunteer_never_holds_more_than_their_maximum(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"], max_chats=1)
    first = await handoff.queue.request(requester(1), "asked")
    second = await handoff.queue.request(requester(2), "asked")
    assert (await handoff.queue.take(1, first.id))[0] == "taken"
    outcome, held = await handoff.queue.take(1, second.id)
    assert outcome == "full" and held == "1"


async def test_release_puts_the_case_back_with_a_note_and_not_to_the_same_volunteer(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    await add_volunteer(handoff, 2, ["ar"])
    sender = RecordingSender()
    case = await handoff.queue.request(requester(1), "asked")
    await handoff.queue.take(1, case.id)
    await drain(handoff, sender)
    before = len(sender.to(2))
    assert await handoff.queue.release(1, None, "needs a lawyer") == case.label
    await drain(handoff, sender)
    released = await case_of(handoff, case.id)
    assert released.status == "waiting" and released.volunteer_id is None and released.note == "needs a lawyer"
    new_offers = sender.to(2)[before:]
    assert any("needs a lawyer" in (d.text or "") for d in new_offers)
    assert not any("Take" in str(d.buttons) for d in sender.to(1)[-2:])
    requeued = handoff.desk.texts.requeued("ar", 1, silent=False).text
    assert requeued in sender.texts_to(requester(1).chat_id)


async def test_transfer_to_a_skill_offers_the_case_to_volunteers_with_it(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    await add_volunteer(handoff, 2, ["ar"], skills=["women"])
    await add_volunteer(handoff, 3, ["ar"])
    case = await handoff.queue.request(requester(1), "asked")
    await handoff.queue.take(1, case.id)
    sender = RecordingSender()
    await drain(handoff, sender)
    sender.delivered.clear()
    assert await handoff.queue.transfer(1, case.label, "women", "prefers a woman") == case.label
    await drain(handoff, sender)
    assert any(f"o:take:{case.id}" in str(d.buttons) for d in sender.to(2))
    assert not any(f"o:take:{case.id}" in str(d.buttons) for d in sender.to(3))
    assert (await handoff.queue.take(2, case.id))[0] == "taken"


async def test_close_resets_the_engine_and_asks_for_one_rating(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    case = await handoff.queue.request(requester(1), "asked")
    await handoff.queue.take(1, case.id)
    assert await handoff.queue.close(1, None) == case.label
    assert handoff.resets == ["engine-1"]  # type: ignore[attr-defined]
    sender = RecordingSender()
    await drain(handoff, sender)
    closing = sender.to(requester(1).chat_id)[-1]
    assert [label for label, _ in closing.buttons[0]] == ["1", "2", "3", "4", "5"]  # type: ignore[index]
    assert await handoff.queue.rate("user-key-1", case.id, 4)
    assert not await handoff.queue.rate("user-key-1", case.id, 1)  # once
    assert not await handoff.queue.rate("user-key-2", case.id, 1)  # only the case's own user
    assert (await case_of(handoff, case.id)).rating == 4


async def test_cancel_leaves_the_queue_and_updates_the_others_place(handoff: HandoffService) -> None:
    first = await handoff.queue.request(requester(1), "asked")
    second = await handoff.queue.request(requester(2), "asked")
    assert second.announced_position == 2
    assert await handoff.queue.cancel("user-key-1", "ar", requester(1).chat_id) == "left"
    assert (await case_of(handoff, first.id)).status == "cancelled"
    sender = RecordingSender()
    await drain(handoff, sender)
    assert (await case_of(handoff, second.id)).announced_position == 1
    assert await handoff.queue.cancel("user-key-1", "ar", requester(1).chat_id) == "none"


async def test_timers_renotify_alert_remind_and_requeue_from_database_times(db_services: Services,
                                                                           clock: Clock) -> None:
    policy = HandoffPolicy(renotify_after=timedelta(minutes=5), alert_after=timedelta(minutes=15),
                           remind_after=timedelta(minutes=10), requeue_after=timedelta(minutes=20))
    handoff = build_handoff(db_services, clock, policy)
    await add_volunteer(handoff, 1, ["ar"])
    await add_volunteer(handoff, 9, ["en"], role="coordinator", online=False)
    sender = RecordingSender()
    case = await handoff.queue.request(requester(1), "asked")
    clock.advance(minutes=6)
    assert (await handoff.timers.sweep()).renotified == 1
    assert (await handoff.timers.sweep()).renotified == 0  # once
    clock.advance(minutes=10)
    assert (await handoff.timers.sweep()).alerted == 1
    await drain(handoff, sender)
    assert any("Nobody has taken this case" in t for t in sender.texts_to(9))
    assert (await handoff.queue.take(9, case.id))[0] == "taken"  # the alert lets a coordinator take it
    await handoff.queue.release(9, None, None)

    assert (await handoff.queue.take(1, case.id))[0] == "taken"
    clock.advance(minutes=11)
    assert (await handoff.timers.sweep()).reminded == 1
    # Restart: a new handoff object on the same database keeps the timers' state.
    restarted = build_handoff(db_services, clock, policy)
    clock.advance(minutes=10)
    assert (await restarted.timers.sweep()).requeued == 1
    await drain(restarted, sender)
    assert (await case_of(restarted, case.id)).status == "waiting"
    requeued = restarted.desk.texts.requeued("ar", 1, silent=True).text
    assert requeued in sender.texts_to(requester(1).chat_id)


async def test_retention_deletes_closed_cases_and_recent_turns(handoff: HandoffService, clock: Clock) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    case = await handoff.queue.request(requester(1), "asked")
    await handoff.queue.take(1, case.id)
    await handoff.relay.from_user("user-key-1", Incoming(requester(1).chat_id, 77, "text", "hello"))
    await handoff.queue.close(1, None)
    async with handoff.desk.sessions.begin() as session:
        session.add(RecentTurn(user_key="user-key-1", text="old question", created_at=clock()))
    clock.advance(days=29)
    assert await handoff.timers.delete_expired(clock()) == 0
    clock.advance(days=2)
    assert await handoff.timers.delete_expired(clock()) == 1
    async with handoff.desk.sessions() as session:
        for table in (Handoff, TranscriptEntry, RecentTurn):
            assert await session.scalar(select(func.count()).select_from(table)) == 0


async def test_relay_stores_each_message_once_and_delivers_in_order(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    case = await handoff.queue.request(requester(1), "asked")
    await handoff.queue.take(1, case.id)
    chat = requester(1).chat_id
    for number in range(5):
        assert await handoff.relay.from_user("user-key-1", Incoming(chat, 10 + number, "text", f"m{number}")) \
            == "relayed"
    assert await handoff.relay.from_user("user-key-1", Incoming(chat, 12, "text", "m2")) == "duplicate"
    assert await handoff.relay.from_user("user-key-1", Incoming(chat, 20, "photo", None)) == "relayed"
    sender = RecordingSender()
    await drain(handoff, sender)
    relayed = [d for d in sender.to(1) if (d.text or "").startswith(f"[{case.label}]")]
    assert [d.text for d in relayed] == [f"[{case.label}] m{n}" for n in range(5)] + [f"[{case.label}]"]
    assert relayed[-1].copy_from_chat_id == chat and relayed[-1].copy_message_id == 20  # a copy, not a forward


async def test_media_sent_while_waiting_reaches_the_volunteer_on_take(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    case = await handoff.queue.request(requester(1), "asked")
    chat = requester(1).chat_id
    assert await handoff.relay.from_user("user-key-1", Incoming(chat, 5, "text", "hi")) == "waiting"
    assert await handoff.relay.from_user("user-key-1", Incoming(chat, 6, "voice", None)) == "kept"
    await handoff.queue.take(1, case.id)
    sender = RecordingSender()
    await drain(handoff, sender)
    assert any(d.copy_message_id == 6 for d in sender.to(1))


async def test_outbox_honours_retry_after_and_reports_what_cannot_be_delivered(handoff: HandoffService,
                                                                               clock: Clock) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    case = await handoff.queue.request(requester(1), "asked")
    await handoff.queue.take(1, case.id)
    sender = RecordingSender()
    await drain(handoff, sender)
    user_chat = requester(1).chat_id
    sender.script[user_chat] = [RetryLater(30, "flood control")]
    await handoff.relay.from_volunteer(Incoming(1, 300, "text", "first"))
    await handoff.relay.from_volunteer(Incoming(1, 301, "text", "second"))
    await drain(handoff, sender)
    assert not any("first" in t for t in sender.texts_to(user_chat))  # waiting for retry_after
    clock.advance(seconds=31)
    await drain(handoff, sender)
    texts = [t for t in sender.texts_to(user_chat) if "first" in t or "second" in t]
    signed = handoff.desk.texts.from_volunteer
    assert texts == [signed("ar", "Amina", "first"), signed("ar", "Amina", "second")]  # once each, in order

    sender.script[user_chat] = [Undeliverable("forbidden: bot was blocked by the user")]
    await handoff.relay.from_volunteer(Incoming(1, 302, "text", "third"))
    await drain(handoff, sender)
    assert any("has blocked the bot" in t and "closed" in t for t in sender.texts_to(1))  # 403: the case ends
    async with handoff.desk.sessions() as session:
        failed = await session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.status == "failed"))
    assert failed == 1


async def test_contact_details_from_a_volunteer_wait_for_a_coordinator(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    await add_volunteer(handoff, 9, ["en"], role="coordinator", online=False)
    case = await handoff.queue.request(requester(1), "asked")
    await handoff.queue.take(1, case.id)
    outcome, _ = await handoff.relay.from_volunteer(Incoming(1, 400, "text", "WhatsApp me: +90 532 123 45 67"))
    assert outcome == "held"
    sender = RecordingSender()
    await drain(handoff, sender)
    user_chat = requester(1).chat_id
    assert not any("532" in t for t in sender.texts_to(user_chat))
    review = next(d for d in sender.to(9) if "contact details" in (d.text or ""))
    review_data = review.buttons[0][0][1]  # type: ignore[index]
    assert review_data.startswith("o:allow:")
    assert not await handoff.relay.review(1, int(review_data.rsplit(":", 1)[1]), allow=True)  # not a coordinator
    assert await handoff.relay.review(9, int(review_data.rsplit(":", 1)[1]), allow=True)
    await drain(handoff, sender)
    assert any("532" in t for t in sender.texts_to(user_chat))


@pytest.mark.parametrize("text, expected", [
    ("call me on +90 532 123 45 67", True),
    ("رقمي ٠٥٣٢١٢٣٤٥٦٧", True),
    ("write to amina@example.org", True),
    ("my telegram is @amina_helps", True),
    ("https://wa.me/905321234567", True),
    ("the office opens at 9:30 on 21.11.2026", False),
    ("UNHCR can help you; call 112 in an emergency", False),
    ("", False),
])
def test_contact_details_are_recognised_in_any_script(text: str, expected: bool) -> None:
    assert has_contact_details(text) is expected


async def test_a_removed_volunteer_loses_their_chats_to_the_queue(handoff: HandoffService) -> None:
    await add_volunteer(handoff, 1, ["ar"])
    await add_volunteer(handoff, 9, ["en"], role="coordinator")
    case = await handoff.queue.request(requester(1), "asked")
    await handoff.queue.take(1, case.id)
    assert await handoff.volunteers.remove(1, 2) is None  # a volunteer cannot remove anyone
    volunteer = await handoff.volunteers.get(1)
    assert volunteer is not None
    assert await handoff.volunteers.remove(9, volunteer.id) == 1
    assert (await case_of(handoff, case.id)).status == "waiting"
    assert await handoff.volunteers.get(1) is None
    stats = await handoff.volunteers.stats()
    assert stats.waiting == 1 and stats.volunteers == 1


async def test_invites_work_once(handoff: HandoffService, clock: Clock) -> None:
    invite = await handoff.volunteers.create_invite()
    assert await handoff.volunteers.register(5, invite.code, "A", "ar") == "registered"
    assert await handoff.volunteers.register(6, invite.code, "B", "ar") == "invalid"
    late = await handoff.volunteers.create_invite()
    clock.advance(days=8)
    assert await handoff.volunteers.register(7, late.code, "C", "ar") == "invalid"
    assert await handoff.volunteers.register(8, "not-a-code", "D", "ar") == "invalid"
