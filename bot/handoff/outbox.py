"""The outbox: every handoff message is stored before it is sent, then delivered in order.

Per recipient chat, messages carry a sequence number and go out one after another: a message
waits while an earlier one to the same chat is still pending (for example after Telegram said
"retry after 30 s"). Any number of bot processes may run dispatchers: a message is claimed by
one atomic UPDATE before it is sent.

Delivery is at least once, on purpose: a message lost to a person in distress is worse than one
read twice, and Telegram has no idempotency key. A message can only be sent twice when the first
call may have reached Telegram without its answer reaching us: a timeout after the request was
written, or a process killed during the call (its claim expires after `CLAIM_TIMEOUT`, longer
than a send may take). Such a resend is flagged in `error` and the log, and every message is
tried at most `MAX_ATTEMPTS` times (flood control, which Telegram answers before doing anything,
is not counted), so copies are bounded. Refusals that will never change (403 blocked, 400 bad
request) are not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.retry import is_database_fault
from bot.handoff.models import OutboxMessage
from bot.outgoing import Button

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SEND_DEADLINE = 25.0  # seconds one delivery may take (its Telegram calls time out sooner)
CLAIM_TIMEOUT = timedelta(seconds=SEND_DEADLINE + 5)  # a claim older than this belongs to a dead sender
MAYBE_TWICE = "resent after an interrupted send: may arrive twice"
FINISH_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0, None)  # waits between tries to record Telegram's answer
Clock = Callable[[], datetime]


class DeliveryError(Exception):
    """Telegram did not take the message."""


class RetryLater(DeliveryError):
    """Telegram refused for a while (flood control, network): try again after `after` seconds.

    `flood`: Telegram said "retry after" and took nothing. `maybe_sent`: the call may have been
    carried out (a timeout after the request was written), so the retry may deliver it twice.
    """

    def __init__(self, after: float, reason: str, *, flood: bool = False, maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.after = after
        self.flood = flood
        self.maybe_sent = maybe_sent


class Undeliverable(DeliveryError):
    """Telegram will never take this message (blocked by the user, chat gone, bad request)."""


@dataclass(frozen=True)
class Delivery:
    """What a sender needs to deliver one outbox message."""

    chat_id: int
    text: str | None
    buttons: list[list[list[str]]] | None
    copy_from_chat_id: int | None = None
    copy_message_id: int | None = None
    edit_message_id: int | None = None


class Sender(Protocol):
    """Sends one delivery and returns the id of the message it created (or edited)."""

    async def deliver(self, delivery: Delivery) -> int: ...


def button_rows(buttons: Sequence[Sequence[Button]]) -> list[list[list[str]]]:
    return [[[button.label, button.data] for button in row] for row in buttons]


async def enqueue(
    session: AsyncSession,
    chat_id: int,
    *,
    text: str | None = None,
    buttons: Sequence[Sequence[Button]] = (),
    copy_from: tuple[int, int] | None = None,
    handoff_id: int | None = None,
    purpose: str = "notice",
    origin_chat_id: int | None = None,
    status: str = "pending",
    now: datetime,
) -> OutboxMessage:
    """Store a message for `chat_id` with the next sequence number of that chat."""
    # max+1 without a unique constraint: two processes may pick the same number, and the id breaks
    # the tie. A unique constraint would make concurrent writers to two chats wait on each other.
    seq = await session.scalar(
        select(func.coalesce(func.max(OutboxMessage.seq), 0) + 1).where(OutboxMessage.chat_id == chat_id)
    )
    message = OutboxMessage(
        chat_id=chat_id, seq=seq, handoff_id=handoff_id, purpose=purpose, text=text,
        buttons=button_rows(buttons) or None,
        copy_from_chat_id=copy_from[0] if copy_from else None,
        copy_message_id=copy_from[1] if copy_from else None,
        origin_chat_id=origin_chat_id, status=status, next_attempt_at=now, created_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def enqueue_edit(
    session: AsyncSession, original_id: int | None, *, text: str, buttons: Sequence[Sequence[Button]] = (),
    now: datetime,
) -> None:
    """Change a message already queued or sent (an offer that was taken, a queue position)."""
    if original_id is None:
        return
    original = await session.get(OutboxMessage, original_id)
    if original is None or original.status in {"failed", "cancelled"}:
        return
    if original.status == "pending" and original.edit_of is None:
        original.text, original.buttons = text, button_rows(buttons) or None
        return
    edit = await enqueue(session, original.chat_id, text=text, buttons=buttons, handoff_id=original.handoff_id,
                         purpose="edit", now=now)
    edit.edit_of = original.id


class Dispatcher:
    """Delivers due outbox messages; `wake()` after committing new ones, and it polls every second."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], sender: Sender, clock: Clock,
                 *, on_undeliverable: Callable[[OutboxMessage], object] | None = None) -> None:
        self.sessions = sessions
        self.sender = sender
        self.clock = clock
        self.owner = uuid.uuid4().hex[:12]
        self.on_undeliverable = on_undeliverable
        self._wake = asyncio.Event()
        self._parallel = asyncio.Semaphore(8)

    def wake(self) -> None:
        self._wake.set()

    async def run(self, poll: float = 1.0) -> None:
        """Deliver until cancelled."""
        while True:
            try:
                while await self.deliver_due():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be briefly away: keep the loop alive
                if is_database_fault(exc):
                    logger.warning("outbox waits for the database: %s", type(exc).__name__)
                else:
                    logger.error("outbox delivery failed: %s", type(exc).__name__, exc_info=exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll)
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Try the first due message of every chat that has one; returns how many were handled."""
        heads = await self._heads()
        if not heads:
            return 0
        results = await asyncio.gather(*(self._deliver(message_id) for message_id in heads))
        return sum(results)

    async def _heads(self) -> list[int]:
        """Per chat, the first message (by sequence, then id) not yet done, if it is due."""
        now = self.clock()
        async with self.sessions() as session:
            # Messages whose sender died mid-call go back to pending (at least once), flagged.
            interrupted = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - CLAIM_TIMEOUT)
                .values(status="pending", claimed_by=None, error=MAYBE_TWICE)
            )
            await session.commit()
            if resent := int(getattr(interrupted, "rowcount", 0) or 0):
                logger.warning("%d outbox messages resent after an interrupted send", resent)
            rows = (await session.execute(
                select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.status, OutboxMessage.next_attempt_at)
                .where(OutboxMessage.status.in_(("pending", "sending")))
                .order_by(OutboxMessage.chat_id, OutboxMessage.seq, OutboxMessage.id)
                .limit(2000)
            )).all()
        heads: list[int] = []
        seen: set[int] = set()
        for message_id, chat_id, status, due in rows:
            if chat_id in seen:
                continue
            seen.add(chat_id)
            if status == "pending" and due <= now:
                heads.append(message_id)
        return heads[:64]

    async def _deliver(self, message_id: int) -> int:
        async with self._parallel:
            now = self.clock()
            async with self.sessions.begin() as session:
                claimed = await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
                    .values(status="sending", claimed_by=self.owner, claimed_at=now,
                            attempts=OutboxMessage.attempts + 1)
                )
                if not getattr(claimed, "rowcount", 0):
                    return 0  # another dispatcher has it
                message = await session.get(OutboxMessage, message_id)
                assert message is not None
                edit_target = None
                if message.edit_of is not None:
                    original = await session.get(OutboxMessage, message.edit_of)
                    edit_target = original.sent_message_id if original else None
                delivery = Delivery(message.chat_id, message.text, message.buttons, message.copy_from_chat_id,
                                    message.copy_message_id, edit_target)
            if message.edit_of is not None and edit_target is None:
                await self._finish(message_id, "cancelled", error="nothing to edit")
                return 1
            try:
                sent_id = await asyncio.wait_for(self.sender.deliver(delivery), SEND_DEADLINE)
            except (RetryLater, TimeoutError) as exc:
                retry = exc if isinstance(exc, RetryLater) else RetryLater(3.0, "deadline", maybe_sent=True)
                if not retry.flood and message.attempts >= MAX_ATTEMPTS:
                    await self._fail(message_id, str(retry))
                    return 1
                if retry.maybe_sent:
                    logger.warning("outbox message %d timed out and is retried: it may arrive twice", message_id)
                reason = f"{retry}; {MAYBE_TWICE}" if retry.maybe_sent else str(retry)
                await self._finish(message_id, "pending", error=reason[:200], uncount=retry.flood,
                                   retry_at=self.clock() + timedelta(seconds=retry.after))
                return 1
            except Undeliverable as exc:
                await self._fail(message_id, str(exc))
                return 1
            await self._finish(message_id, "sent", sent_message_id=sent_id)
            return 1

    async def _finish(self, message_id: int, status: str, *, error: str | None = None,
                      retry_at: datetime | None = None, sent_message_id: int | None = None,
                      uncount: bool = False) -> None:
        values: dict[str, object] = {"status": status, "claimed_by": None}
        if error is not None or status != "sent":
            values["error"] = error  # a sent message keeps the note that it may have been sent twice
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        if uncount:  # flood control: Telegram took nothing, so the attempt does not count against the limit
            values["attempts"] = OutboxMessage.attempts - 1
        if status == "sent":
            values.update(sent_message_id=sent_message_id, sent_at=self.clock())
        # Telegram has answered: if this is not recorded the message is sent again, so a database
        # that is briefly away is waited for (within the claim's lifetime) rather than given up on.
        for pause in FINISH_PAUSES:
            try:
                async with self.sessions.begin() as session:
                    await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                                          .values(**values))
                return
            except DBAPIError as exc:
                if pause is None or not is_database_fault(exc):
                    raise
                await asyncio.sleep(pause)

    async def _fail(self, message_id: int, reason: str) -> None:
        logger.warning("outbox message %d undeliverable: %s", message_id, reason[:80])
        await self._finish(message_id, "failed", error=reason[:200])
        if self.on_undeliverable is not None:
            async with self.sessions() as session:
                message = await session.get(OutboxMessage, message_id)
            if message is not None:
                result = self.on_undeliverable(message)
                if asyncio.iscoroutine(result):
                    await result
