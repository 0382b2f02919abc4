"""Helpers for the handoff tests: a movable clock, a recording sender, and a desk on a real database."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.handoff.models import OutboxMessage, Volunteer
from bot.handoff.outbox import Delivery, RetryLater, Undeliverable
from bot.handoff.queue import Requester
from bot.handoff.service import Handoff
from bot.services import Services
from bot.settings import HandoffPolicy


class Clock:
    """The time the handoff sees; tests move it forward instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingSender:
    """Takes every delivery like Telegram would; `script` makes chats refuse calls first."""

    delivered: list[Delivery] = field(default_factory=list)
    script: dict[int, list[Exception]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5000))

    async def deliver(self, delivery: Delivery) -> int:
        planned = self.script.get(delivery.chat_id)
        if planned:
            raise planned.pop(0)
        self.delivered.append(delivery)
        return delivery.edit_message_id or next(self._ids)

    def to(self, chat_id: int) -> list[Delivery]:
        return [d for d in self.delivered if d.chat_id == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [d.text or "" for d in self.to(chat_id)]


def build_handoff(services: Services, clock: Clock, policy: HandoffPolicy | None = None) -> Handoff:
    """A handoff on the services' real database with a test clock; engine resets are recorded."""
    resets: list[str] = []

    async def reset(engine_id: str) -> None:
        resets.append(engine_id)

    handoff = Handoff.build(
        services.sessions, services.handoff.desk.texts, policy or HandoffPolicy(),
        retention=timedelta(days=30), reset_engine=reset,
        area_of={topic.id: topic.area for topic in services.knowledge.topics.values()}, clock=clock,
    )
    handoff.resets = resets  # type: ignore[attr-defined]
    return handoff


async def add_volunteer(handoff: Handoff, chat_id: int, languages: list[str], *, skills: list[str] | None = None,
                        role: str = "volunteer", max_chats: int = 2, online: bool = True, name: str = "Amina",
                        ) -> Volunteer:
    invite = await handoff.volunteers.create_invite(role)
    assert await handoff.volunteers.register(chat_id, invite.code, name, "en") == "registered"
    for language in languages:
        if language != "en":
            await handoff.volunteers.change(chat_id, "vlang", language)
    if "en" not in languages:
        await handoff.volunteers.change(chat_id, "vlang", "en")  # registration starts with the UI language
    for skill in skills or []:
        await handoff.volunteers.change(chat_id, "vskill", skill)
    await handoff.volunteers.change(chat_id, "vmax", str(max_chats))
    await handoff.volunteers.change(chat_id, "name", name)
    if online:
        await handoff.volunteers.set_online(chat_id, True)
    volunteer = await handoff.volunteers.get(chat_id)
    assert volunteer is not None
    return volunteer


def requester(number: int, language: str = "ar") -> Requester:
    return Requester(f"user-key-{number}", f"engine-{number}", 100_000 + number, language)


async def outbox(handoff: Handoff, chat_id: int) -> list[OutboxMessage]:
    async with handoff.desk.sessions() as session:
        return list((await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.seq))).all())


async def drain(handoff: Handoff, sender: RecordingSender) -> None:
    """Deliver everything that is due."""
    dispatcher = handoff.dispatcher or handoff.attach(sender)
    while await dispatcher.deliver_due():
        pass


@contextlib.asynccontextmanager
async def attached(handoff: Handoff) -> AsyncIterator[RecordingSender]:
    sender = RecordingSender()
    handoff.attach(sender)
    yield sender


__all__ = ["Clock", "RecordingSender", "RetryLater", "Undeliverable", "add_volunteer", "attached", "build_handoff",
           "drain", "outbox", "requester"]
