"""The race: many users escalating and many volunteers pressing Take at once, through two bot
processes (two separate connection pools on one database), then relaying both ways at once.

No case may be held twice or lost, no volunteer may exceed their maximum, and every relayed
message must reach its recipient exactly once and in order.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select

from bot.db.session import create_engine, session_factory
from bot.handoff.models import Handoff
from bot.handoff.relay import Incoming
from bot.handoff.service import Handoff as HandoffService
from bot.services import Services, open_services
from bot.settings import HandoffPolicy, Settings
from tests.handoff_helpers import Clock, RecordingSender, add_volunteer, requester

USERS = 30
VOLUNTEERS = 8
MAX_CHATS = 5
MESSAGES = 8


def second_process(services: Services, database_url: str, clock: Clock) -> tuple[HandoffService, object]:
    """A handoff on its own database engine, as a second bot process would have."""
    engine = create_engine(database_url)
    handoff = HandoffService.build(
        session_factory(engine), services.handoff.desk.texts, HandoffPolicy(), retention=timedelta(days=30),
        reset_engine=services.tracker_store.delete_conversation,
        area_of={topic.id: topic.area for topic in services.knowledge.topics.values()}, clock=clock)
    return handoff, engine


async def test_many_escalations_and_takes_at_once_hold_each_chat_once_and_relay_exactly_once(
        database_url: str, make_settings: Callable[..., Settings]) -> None:
    clock = Clock()
    async with open_services(make_settings(DATABASE_URL=database_url), start_engine=False) as services:
        first, _ = second_process(services, database_url, clock)
        second, engine = second_process(services, database_url, clock)
        processes = (first, second)
        try:
            for number in range(VOLUNTEERS):
                await add_volunteer(first, 1 + number, ["ar"], max_chats=MAX_CHATS, name=f"V{number}")

            # 30 users escalate at once, alternating between the two processes.
            cases = await asyncio.gather(*(processes[n % 2].queue.request(requester(n), "asked")
                                           for n in range(USERS)))
            assert len({case.id for case in cases}) == USERS

            # Every volunteer presses Take on every case at once, in random order, through both processes.
            presses = [(volunteer, case.id) for volunteer in range(1, VOLUNTEERS + 1) for case in cases]
            random.Random(7).shuffle(presses)
            outcomes = await asyncio.gather(*(processes[i % 2].queue.take(volunteer, case_id)
                                              for i, (volunteer, case_id) in enumerate(presses)))
            wins = Counter(case_id for (_, case_id), (outcome, _) in zip(presses, outcomes, strict=True)
                           if outcome == "taken")
            assert all(count == 1 for count in wins.values())  # never two volunteers on one chat
            assert len(wins) == USERS  # capacity 8 x 5 = 40 >= 30: nobody left waiting
            async with first.desk.sessions() as session:
                held = Counter((await session.scalars(
                    select(Handoff.volunteer_id).where(Handoff.status == "held"))).all())
                assert sum(held.values()) == USERS
                assert max(held.values()) <= MAX_CHATS
                assert await session.scalar(select(func.count()).select_from(Handoff)
                                            .where(Handoff.status == "waiting")) == 0
                holders = {case.id: case.volunteer_id for case in (await session.scalars(select(Handoff))).all()}

            # Both sides write at once through both processes; both dispatchers deliver at once.
            async def user_writes(case: Handoff) -> None:
                for n in range(MESSAGES):
                    outcome = await processes[n % 2].relay.from_user(
                        case.user_key, Incoming(case.user_chat_id, 10_000 + n, "text", f"u{case.label}-{n}"))
                    assert outcome == "relayed"

            volunteer_chats = {v.id: v.chat_id for v in await first.volunteers.list_volunteers()}

            async def volunteer_writes(case: Handoff) -> None:
                chat = volunteer_chats[holders[case.id]]  # type: ignore[index]
                await processes[0].volunteers.switch(chat, case.label)
                for n in range(MESSAGES):
                    outcome, label = await processes[n % 2].relay.from_volunteer(
                        Incoming(chat, 20_000 + case.id * 100 + n, "text", f"v{case.label}-{n}",
                                 reply_to=None))
                    assert outcome == "relayed" and label is not None

            await asyncio.gather(*(user_writes(case) for case in cases))
            for case in cases:  # a volunteer answers one case at a time: /switch, then write
                await volunteer_writes(case)

            sender = RecordingSender()
            dispatchers = [process.attach(sender) for process in processes]

            async def drain(dispatcher: object) -> None:
                while await dispatcher.deliver_due():  # type: ignore[attr-defined]
                    pass

            for _ in range(3):
                await asyncio.gather(*(drain(d) for d in dispatchers))

            for case in cases:
                label = case.label
                holder_chat = volunteer_chats[holders[case.id]]  # type: ignore[index]
                to_volunteer = [t for t in sender.texts_to(holder_chat) if t.startswith(f"[{label}] u{label}-")]
                assert to_volunteer == [f"[{label}] u{label}-{n}" for n in range(MESSAGES)]
                to_user = [t.rsplit("\n", 1)[-1] for t in sender.texts_to(case.user_chat_id)
                           if f"v{label}-" in t]
                assert to_user == [f"v{label}-{n}" for n in range(MESSAGES)]
        finally:
            await engine.dispose()  # type: ignore[attr-defined]
            for process in processes:
                await process.desk.sessions.kw["bind"].dispose()
