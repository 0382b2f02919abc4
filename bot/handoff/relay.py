"""The relay: while a volunteer holds a case, messages go both ways as copies, never forwards.

A copy hides who sent it, so the volunteer never sees the user's account and the user sees
the volunteer only under the name they chose. Every relayed message is stored in the case's
transcript (once, even if Telegram delivers the update twice) and queued in the outbox.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff import outbox
from bot.handoff.models import OPEN, Handoff, OutboxMessage, TranscriptEntry, Volunteer
from bot.handoff.routing import Desk, pick_case

logger = logging.getLogger(__name__)

# Kinds a Telegram copy can carry a caption on; the others get a label message first.
CAPTIONED = frozenset({"photo", "video", "document", "audio", "voice", "animation"})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z][\w]{3,}")
_MESSENGER = re.compile(r"(?:https?://)?(?:www\.)?(t\.me|telegram\.me|wa\.me|chat\.whatsapp\.com|signal\.me|"
                        r"viber\.click|instagram\.com|facebook\.com|fb\.me|m\.me|snapchat\.com|tiktok\.com)/\S*",
                        re.I)
_PHONE = re.compile(r"\+?\d[\d\s().\-]{5,}\d")
_DATE_OR_TIME = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b\d{1,2}:\d{2}\b")

UserOutcome = Literal["none", "duplicate", "relayed", "kept", "waiting"]
VolunteerOutcome = Literal["not_volunteer", "duplicate", "relayed", "held", "no_case", "which_case"]


@dataclass(frozen=True)
class Incoming:
    """One Telegram message, reduced to what the relay needs (no sender identity)."""

    chat_id: int
    message_id: int
    kind: str  # text | photo | voice | document | location | sticker | ...
    text: str | None = None  # the text, or the caption of media
    edit_date: int = 0
    reply_to: int | None = None


def storable(text: str | None) -> str | None:
    """`text` as every database and Telegram take it: a lone surrogate or NUL becomes U+FFFD."""
    if text is None:
        return None
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").replace("\x00", "\ufffd")


def has_contact_details(text: str | None) -> bool:
    """A phone number, e-mail address or messenger account in `text` (any digits' script)."""
    return bool(_contact_spans(text or ""))


def mask_contact_details(text: str) -> str:
    """`text` with every phone number, e-mail address, @handle and messenger link replaced by "[…]"."""
    masked: list[str] = []
    end = 0
    for start, stop in _contact_spans(text):
        masked += [text[end:start], "[…]"]
        end = stop
    return "".join([*masked, text[end:]])


def _contact_spans(text: str) -> list[tuple[int, int]]:
    """Where contact details are in `text`, as sorted, non-overlapping (start, end) pairs."""
    # Digits of any script read as ASCII ones; one character each, so positions stay those of `text`.
    digits = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in text)
    spans = [m.span() for pattern in (_EMAIL, _HANDLE, _MESSENGER) for m in pattern.finditer(digits)]
    no_dates = _DATE_OR_TIME.sub(lambda m: " " * len(m.group(0)), digits)
    spans += [m.span() for m in _PHONE.finditer(no_dates) if sum(c.isdigit() for c in m.group(0)) >= 7]
    merged: list[tuple[int, int]] = []
    for start, stop in sorted((start, _before_punctuation(text, start, stop)) for start, stop in spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = merged[-1][0], max(merged[-1][1], stop)
        else:
            merged.append((start, stop))
    return merged


def _before_punctuation(text: str, start: int, stop: int) -> int:
    """The end of a match without the full stop or comma of the sentence it ends."""
    while stop - 1 > start and text[stop - 1] in ".,;:!?)»”'\"":
        stop -= 1
    return stop


async def store(session: AsyncSession, case: Handoff, sender: str, incoming: Incoming,
                now: object) -> TranscriptEntry | None:
    """Keep the message in the transcript; None when this very message was stored already."""
    entry = TranscriptEntry(
        handoff_id=case.id, sender=sender, kind=incoming.kind, text=incoming.text,
        source_chat_id=incoming.chat_id, source_message_id=incoming.message_id,
        edit_date=incoming.edit_date, created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(entry)
            await session.flush()
    except IntegrityError:
        return None
    return entry


async def copy_to_volunteer(desk: Desk, session: AsyncSession, case: Handoff, volunteer: Volunteer,
                            entry: TranscriptEntry) -> None:
    """Queue one of the user's messages for the volunteer, labelled with the case code."""
    label = desk.texts.relayed_label(case.label)
    now = desk.clock()
    if entry.kind == "text":
        await outbox.enqueue(session, volunteer.chat_id, text=f"{label} {entry.text or ''}", handoff_id=case.id,
                             purpose="relay", origin_chat_id=case.user_chat_id, now=now)
    else:
        caption = f"{label} {entry.text}" if entry.text else label
        if entry.kind not in CAPTIONED:
            await outbox.enqueue(session, volunteer.chat_id, text=caption, handoff_id=case.id, purpose="relay",
                                 now=now)
            caption = None  # type: ignore[assignment]
        assert entry.source_chat_id is not None and entry.source_message_id is not None
        await outbox.enqueue(session, volunteer.chat_id, text=caption,
                             copy_from=(entry.source_chat_id, entry.source_message_id), handoff_id=case.id,
                             purpose="relay", origin_chat_id=case.user_chat_id, now=now)
    entry.relayed = True


async def copy_to_user(desk: Desk, session: AsyncSession, case: Handoff, volunteer: Volunteer,
                       incoming: Incoming, *, status: str = "pending") -> OutboxMessage:
    """Queue a volunteer's message for the user, under the volunteer's chosen name."""
    now = desk.clock()
    signed = desk.texts.from_volunteer(case.language, volunteer.display_name, incoming.text)
    if incoming.kind == "text":
        return await outbox.enqueue(session, case.user_chat_id, text=signed, handoff_id=case.id, purpose="relay",
                                    origin_chat_id=volunteer.chat_id, status=status, now=now)
    caption: str | None = signed
    if incoming.kind not in CAPTIONED:
        await outbox.enqueue(session, case.user_chat_id, text=signed, handoff_id=case.id, purpose="relay",
                             status=status, now=now)
        caption = None
    return await outbox.enqueue(session, case.user_chat_id, text=caption,
                                copy_from=(incoming.chat_id, incoming.message_id), handoff_id=case.id,
                                purpose="relay", origin_chat_id=volunteer.chat_id, status=status, now=now)


@dataclass(frozen=True)
class Relay:
    """Routes messages between a user and the volunteer holding their case."""

    desk: Desk

    async def open_case(self, user_key: str) -> Handoff | None:
        async with self.desk.sessions() as session:
            return await self.desk.open_case(session, user_key)

    async def from_user(self, user_key: str, incoming: Incoming) -> UserOutcome:
        """A user's message: relayed when held, kept for the volunteer when it is media and waiting."""
        async with self.desk.sessions.begin() as session:
            case = await self.desk.open_case(session, user_key, lock=True)
            if case is None:
                return "none"
            if case.status == "waiting" and incoming.kind == "text":
                return "waiting"  # the assistant answers; the card shows it to the volunteer later
            now = self.desk.clock()
            entry = await store(session, case, "user", incoming, now)
            if entry is None:
                return "duplicate"
            case.last_user_at = now
            if case.status == "waiting":
                return "kept"
            volunteer = await session.get(Volunteer, case.volunteer_id)
            assert volunteer is not None
            await copy_to_volunteer(self.desk, session, case, volunteer, entry)
        self.desk.wake()
        return "relayed"

    async def from_volunteer(self, incoming: Incoming) -> tuple[VolunteerOutcome, str | None]:
        """A volunteer's message: to the case it replies to, else their current case."""
        async with self.desk.sessions.begin() as session:
            volunteer = await self.desk.volunteer(session, incoming.chat_id)
            if volunteer is None:
                return "not_volunteer", None
            held = await self.desk.held_by(session, volunteer)
            if not held:
                return "no_case", None
            case = await self._target(session, volunteer, held, incoming.reply_to)
            if case is None:
                return "which_case", None
            now = self.desk.clock()
            if await store(session, case, "volunteer", incoming, now) is None:
                return "duplicate", case.label
            volunteer.current_handoff_id = case.id
            case.last_volunteer_at, case.reminded_at = now, None
            if has_contact_details(incoming.text):
                held_message = await copy_to_user(self.desk, session, case, volunteer, incoming, status="held")
                for coordinator in await self.desk.coordinators(session):
                    review = self.desk.texts.contact_review(
                        coordinator.ui_language, case.label, f"{volunteer.display_name} (#{volunteer.id})",
                        incoming.text or "", held_message.id)
                    await self.desk.send(session, coordinator.chat_id, review, handoff_id=case.id)
                await self.desk.send(session, volunteer.chat_id, self.desk.texts.volunteer_notice(
                    volunteer.ui_language, "contact_held", label=case.label), handoff_id=case.id)
                outcome: VolunteerOutcome = "held"
            else:
                await copy_to_user(self.desk, session, case, volunteer, incoming)
                outcome = "relayed"
            label = case.label
        self.desk.wake()
        return outcome, label

    async def _target(self, session: AsyncSession, volunteer: Volunteer, held: Sequence[Handoff],
                      reply_to: int | None) -> Handoff | None:
        by_id = {case.id: case for case in held}
        if reply_to is not None:
            replied = await session.scalar(
                select(OutboxMessage.handoff_id).where(OutboxMessage.chat_id == volunteer.chat_id,
                                                       OutboxMessage.sent_message_id == reply_to))
            if replied in by_id:
                return by_id[replied]
        return pick_case(held, volunteer, None)

    async def review(self, coordinator_chat_id: int, review_id: int, *, allow: bool) -> bool:
        """A coordinator's decision on a volunteer message held for contact details."""
        async with self.desk.sessions.begin() as session:
            coordinator = await self.desk.volunteer(session, coordinator_chat_id)
            held = await session.get(OutboxMessage, review_id)
            if coordinator is None or not coordinator.is_coordinator or held is None or held.status != "held":
                return False
            case = await session.get(Handoff, held.handoff_id) if held.handoff_id else None
            volunteer = await session.get(Volunteer, case.volunteer_id) if case and case.volunteer_id else None
            held.status = "cancelled"
            if allow and case is not None and case.status == "held":
                # A fresh sequence number: the message goes out now, after what was sent meanwhile.
                copy = None
                if held.copy_from_chat_id is not None and held.copy_message_id is not None:
                    copy = held.copy_from_chat_id, held.copy_message_id
                await outbox.enqueue(session, held.chat_id, text=held.text, handoff_id=held.handoff_id,
                                     copy_from=copy,
                                     purpose="relay", origin_chat_id=held.origin_chat_id, now=self.desk.clock())
            if volunteer is not None and case is not None:
                kind = "contact_allowed" if allow else "contact_rejected"
                await self.desk.send(session, volunteer.chat_id,
                                     self.desk.texts.volunteer_notice(volunteer.ui_language, kind, label=case.label))
        self.desk.wake()
        return True

    async def undeliverable(self, message: OutboxMessage) -> None:
        """Tell whoever wrote a relayed message that it finally could not be delivered.

        Telegram's 403 to a user with an open case means they blocked the bot: the case ends there.
        """
        if (message.error or "").startswith("forbidden") and await self._blocked(message.chat_id):
            return
        if message.purpose != "relay" or message.origin_chat_id is None:
            return
        async with self.desk.sessions.begin() as session:
            case = await session.get(Handoff, message.handoff_id) if message.handoff_id else None
            if case is None:
                return
            if message.origin_chat_id == case.user_chat_id:
                text = self.desk.texts.not_delivered(case.language, None)
            else:
                volunteer = await self.desk.volunteer(session, message.origin_chat_id)
                language = volunteer.ui_language if volunteer else case.language
                text = self.desk.texts.volunteer_notice(language, "undelivered", label=case.label)
            await self.desk.send(session, message.origin_chat_id, text, handoff_id=case.id)
        self.desk.wake()

    async def _blocked(self, chat_id: int) -> bool:
        """The user of `chat_id` blocked the bot: end their open case, drop what waits for them, tell the volunteer."""
        async with self.desk.sessions.begin() as session:
            case = await session.scalar(select(Handoff).where(Handoff.user_chat_id == chat_id,
                                                              Handoff.status.in_(OPEN)).with_for_update())
            if case is None:
                return False
            waiting = case.status == "waiting"
            case.status = "cancelled" if waiting else "closed"
            case.closed_at, case.closed_by = self.desk.clock(), "blocked"
            if waiting:
                await self.desk.withdraw_offers(session, case, taken_by=None)
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.chat_id == chat_id, OutboxMessage.status.in_(("pending", "held")))
                .values(status="cancelled", error="blocked by the user"))
            volunteer = await session.get(Volunteer, case.volunteer_id) if case.volunteer_id else None
            if volunteer is not None:
                if volunteer.current_handoff_id == case.id:
                    volunteer.current_handoff_id = None
                await self.desk.send(session, volunteer.chat_id, self.desk.texts.volunteer_notice(
                    volunteer.ui_language, "blocked", label=case.label), handoff_id=case.id)
            engine_id, language = case.engine_id, case.language
        logger.info("a user blocked the bot; their case is closed")
        await self.desk.reset_engine(engine_id)
        if waiting:
            await self.desk.refresh_positions_now(language)
        self.desk.wake()
        return True
