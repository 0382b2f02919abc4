"""Who may see a case, where it stands in the queue, and how long it will honestly take.

Shared by the queue, the relay, the volunteer desk and the timers through `Desk`, which holds
what they all need: the sessions, the texts, the timings, the clock and the outbox's wake-up.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handoff import outbox
from bot.handoff.models import OPEN, Handoff, Offer, OutboxMessage, TranscriptEntry, Volunteer
from bot.handoff.texts import CaseFacts, HandoffTexts, Text
from bot.settings import HandoffPolicy

logger = logging.getLogger(__name__)

# The skill a topic implies: volunteers with it are notified first.
SKILL_OF_TOPIC = {
    "rights_health": "medical", "services_health": "medical",
    "services_mental_health": "mental_health",
    "rights_women": "women", "services_women": "women",
}
LEGAL_AREAS = ("rights", "asylum")
RECENT_WAITS = timedelta(days=14)


def skill_for(topic: str | None, area: str | None) -> str | None:
    if topic in SKILL_OF_TOPIC:
        return SKILL_OF_TOPIC[topic]
    if area in LEGAL_AREAS or (topic or "").startswith("services_legal"):
        return "legal"
    return None


def pick_case(held: Sequence[Handoff], volunteer: Volunteer, label: str | None) -> Handoff | None:
    """The held case a volunteer means: the one named, else their current one, else their only one."""
    if label:
        return next((case for case in held if case.label == label.upper()), None)
    current = next((case for case in held if case.id == volunteer.current_handoff_id), None)
    return current or (held[0] if len(held) == 1 else None)


@dataclass(frozen=True)
class Desk:
    """What every part of the handoff shares."""

    sessions: async_sessionmaker[AsyncSession]
    texts: HandoffTexts
    policy: HandoffPolicy
    clock: Callable[[], datetime]
    wake: Callable[[], None]
    reset_engine: Callable[[str], Awaitable[object]]
    retention: timedelta

    async def send(self, session: AsyncSession, chat_id: int, message: Text, *, handoff_id: int | None = None,
                   purpose: str = "notice") -> OutboxMessage:
        return await outbox.enqueue(session, chat_id, text=message.text, buttons=message.buttons,
                                    handoff_id=handoff_id, purpose=purpose, now=self.clock())

    def facts(self, case: Handoff) -> CaseFacts:
        return CaseFacts(case.id, case.label, case.language, case.topic, case.reason, case.urgent,
                         self.clock() - case.waiting_since, case.note)

    def outside_hours(self) -> str | None:
        """The answering hours as text when now is outside them, else None."""
        if self.policy.hours is None:
            return None
        start, end = self.policy.hours
        local = self.clock().astimezone(ZoneInfo(self.policy.timezone)).time()
        inside = start <= local < end if start <= end else (local >= start or local < end)
        if inside:
            return None
        return f"{start:%H:%M}–{end:%H:%M} ({self.policy.timezone})"

    # --- volunteers ---------------------------------------------------------------------------

    async def volunteer(self, session: AsyncSession, chat_id: int, *, lock: bool = False) -> Volunteer | None:
        query = select(Volunteer).where(Volunteer.chat_id == chat_id, Volunteer.active.is_(True))
        if lock:
            query = query.with_for_update()
        found: Volunteer | None = await session.scalar(query)
        return found

    async def held_counts(self, session: AsyncSession) -> dict[int, int]:
        rows = await session.execute(
            select(Handoff.volunteer_id, func.count())
            .where(Handoff.status == "held", Handoff.volunteer_id.is_not(None)).group_by(Handoff.volunteer_id)
        )
        return {volunteer_id: count for volunteer_id, count in rows}

    async def open_case(self, session: AsyncSession, user_key: str, *, lock: bool = False) -> Handoff | None:
        """The user's waiting or held case, if any (at most one: a unique index says so)."""
        query = select(Handoff).where(Handoff.user_key == user_key, Handoff.status.in_(OPEN))
        case: Handoff | None = await session.scalar(query.with_for_update() if lock else query)
        return case

    async def held_by(self, session: AsyncSession, volunteer: Volunteer) -> Sequence[Handoff]:
        """The cases a volunteer holds, oldest first."""
        return (await session.scalars(
            select(Handoff).where(Handoff.volunteer_id == volunteer.id, Handoff.status == "held")
            .order_by(Handoff.taken_at))).all()

    async def eligible(self, session: AsyncSession, case: Handoff, *, prefer_skill: bool) -> list[Volunteer]:
        """Online volunteers who speak the case's language and have room, skilled ones first."""
        online = (await session.scalars(
            select(Volunteer).where(Volunteer.active.is_(True), Volunteer.online.is_(True))
        )).all()
        counts = await self.held_counts(session)
        matching = [v for v in online if case.language in v.languages and counts.get(v.id, 0) < v.max_chats
                    and v.id != case.excluded_volunteer_id]
        skill = case.required_skill
        matching.sort(key=lambda v: (skill not in v.skills if skill else False, counts.get(v.id, 0), v.id))
        if prefer_skill and skill and not case.urgent:
            skilled = [v for v in matching if skill in v.skills]
            return skilled or matching
        return matching

    async def online_for(self, session: AsyncSession, language: str) -> int:
        online = (await session.scalars(
            select(Volunteer).where(Volunteer.active.is_(True), Volunteer.online.is_(True))
        )).all()
        return sum(1 for v in online if language in v.languages)

    async def coordinators(self, session: AsyncSession) -> Sequence[Volunteer]:
        return (await session.scalars(
            select(Volunteer).where(Volunteer.active.is_(True), Volunteer.role == "coordinator")
        )).all()

    async def offer(self, session: AsyncSession, case: Handoff, volunteers: Sequence[Volunteer], *,
                    again: bool = False) -> int:
        """Show the case to these volunteers with a Take button (once each, unless `again`)."""
        offered = 0
        for volunteer in volunteers:
            existing = await session.scalar(
                select(Offer).where(Offer.handoff_id == case.id, Offer.volunteer_id == volunteer.id))
            if existing is not None and not again:
                continue
            message = await self.send(session, volunteer.chat_id,
                                      self.texts.offer(self.facts(case), volunteer.ui_language, again=again),
                                      handoff_id=case.id, purpose="offer")
            if existing is None:
                session.add(Offer(handoff_id=case.id, volunteer_id=volunteer.id, outbox_id=message.id,
                                  created_at=self.clock()))
            else:
                existing.outbox_id = message.id
            offered += 1
        return offered

    async def withdraw_offers(self, session: AsyncSession, case: Handoff, *, taken_by: int | None) -> None:
        """Change every Take button of this case into "taken" or "no longer waiting"."""
        offers = (await session.scalars(select(Offer).where(Offer.handoff_id == case.id))).all()
        for offer in offers:
            volunteer = await session.get(Volunteer, offer.volunteer_id)
            if volunteer is None:
                continue
            language = volunteer.ui_language
            if offer.volunteer_id == taken_by:
                text = Text(self.texts.case_line(self.facts(case), language), [])
            else:
                text = self.texts.offer_gone(case.label, language, taken=taken_by is not None)
            await outbox.enqueue_edit(session, offer.outbox_id, text=text.text, buttons=text.buttons,
                                      now=self.clock())
            await session.delete(offer)

    # --- the user's place in the queue ----------------------------------------------------------

    async def position(self, session: AsyncSession, case: Handoff) -> int:
        """1 + the waiting cases of the same language that are served before this one."""
        ahead = await session.scalar(
            select(func.count()).select_from(Handoff).where(
                Handoff.status == "waiting", Handoff.language == case.language, Handoff.id != case.id,
                or_(Handoff.priority > case.priority,
                    and_(Handoff.priority == case.priority,
                         or_(Handoff.waiting_since < case.waiting_since,
                             and_(Handoff.waiting_since == case.waiting_since, Handoff.id < case.id)))),
            )
        )
        return 1 + (ahead or 0)

    async def expected_wait(self, session: AsyncSession, case: Handoff, position: int, online: int
                            ) -> timedelta | None:
        """The median wait of recent cases, scaled by the place in the queue; None without history."""
        since = self.clock() - RECENT_WAITS
        rows = (await session.execute(
            select(Handoff.created_at, Handoff.first_taken_at, Handoff.language)
            .where(Handoff.first_taken_at.is_not(None), Handoff.created_at >= since)
        )).all()
        waits = [(taken - created).total_seconds() for created, taken, lang in rows if lang == case.language]
        if len(waits) < 3:
            waits = [(taken - created).total_seconds() for created, taken, _ in rows]
        if len(waits) < 3 or online == 0:
            return None
        rounds = math.ceil(position / max(1, online))
        return timedelta(seconds=max(60.0, statistics.median(waits) * rounds))

    async def queued_text(self, session: AsyncSession, case: Handoff, *, already: bool = False,
                          help_text: str | None = None) -> tuple[Text, int]:
        position = await self.position(session, case)
        online = await self.online_for(session, case.language)
        wait = await self.expected_wait(session, case, position, online)
        text = self.texts.queued(case.language, position=position, wait=wait, online=online,
                                 hours=self.outside_hours(), urgent=case.urgent, already=already)
        if help_text and (online == 0 or self.outside_hours()):
            text = Text(f"{text.text}\n\n{help_text}", text.buttons)
        return text, position

    async def refresh_positions(self, session: AsyncSession, language: str) -> None:
        """Edit the acknowledgement of every waiting user of `language` whose place changed."""
        waiting = (await session.scalars(
            select(Handoff).where(Handoff.status == "waiting", Handoff.language == language).order_by(Handoff.id)
        )).all()
        for case in waiting:
            position = await self.position(session, case)
            if position == case.announced_position or case.ack_outbox_id is None:
                continue
            text, _ = await self.queued_text(session, case)
            await outbox.enqueue_edit(session, case.ack_outbox_id, text=text.text, buttons=text.buttons,
                                      now=self.clock())
            case.announced_position = position

    async def refresh_positions_now(self, language: str) -> None:
        """Refresh places in a transaction of its own (after a take or a cancel); the sweep retries on failure."""
        try:
            async with self.sessions.begin() as session:
                await self.refresh_positions(session, language)
        except DBAPIError as error:
            logger.info("queue places not refreshed now (%s); the next sweep will", type(error).__name__)

    async def unrelayed(self, session: AsyncSession, case: Handoff) -> Sequence[TranscriptEntry]:
        return (await session.scalars(
            select(TranscriptEntry).where(TranscriptEntry.handoff_id == case.id, TranscriptEntry.sender == "user",
                                          TranscriptEntry.relayed.is_(False))
            .order_by(TranscriptEntry.id)
        )).all()
