"""The handoff as one service: queue, relay, volunteer desk, timers and the outbox dispatcher.

Built by the composition root; `start(sender)` runs the dispatcher and the timers in the
background once a way to send exists (Telegram's bot, or the console).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handoff.outbox import Dispatcher, Sender
from bot.handoff.queue import HandoffQueue
from bot.handoff.relay import Relay
from bot.handoff.routing import Desk
from bot.handoff.texts import HandoffTexts
from bot.handoff.timers import Timers
from bot.handoff.volunteers import VolunteerDesk
from bot.settings import HandoffPolicy

logger = logging.getLogger(__name__)


def utc_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Handoff:
    """Everything about passing a user to a person."""

    desk: Desk
    queue: HandoffQueue
    relay: Relay
    volunteers: VolunteerDesk
    timers: Timers
    dispatcher: Dispatcher | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _wake: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def build(cls, sessions: async_sessionmaker[AsyncSession], texts: HandoffTexts, policy: HandoffPolicy, *,
              retention: timedelta, reset_engine: Callable[[str], Awaitable[object]],
              area_of: dict[str, str], clock: Callable[[], datetime] = utc_clock) -> Handoff:
        wake: list[Callable[[], None]] = []

        def wake_dispatchers() -> None:
            for callback in wake:
                callback()

        desk = Desk(sessions, texts, policy, clock, wake_dispatchers, reset_engine, retention)
        queue = HandoffQueue(desk, area_of)
        return cls(desk, queue, Relay(desk), VolunteerDesk(desk, queue), Timers(desk, queue), _wake=wake)

    def attach(self, sender: Sender) -> Dispatcher:
        """Create the dispatcher that delivers the outbox through `sender` (without running it)."""
        self.dispatcher = Dispatcher(self.desk.sessions, sender, self.desk.clock,
                                     on_undeliverable=self.relay.undeliverable)
        self._wake.append(self.dispatcher.wake)
        return self.dispatcher

    def start(self, sender: Sender) -> None:
        """Deliver the outbox and run the timers in the background."""
        dispatcher = self.attach(sender)
        self._tasks = [asyncio.create_task(dispatcher.run(), name="handoff-outbox"),
                       asyncio.create_task(self.timers.run(), name="handoff-timers")]
        logger.info("handoff started")

    async def stop(self) -> None:
        """Stop the background tasks; never let a stuck database call hold up the shutdown."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=5)
            if stuck:
                logger.warning("%d handoff tasks did not stop in 5 s", len(stuck))
        self._tasks = []
