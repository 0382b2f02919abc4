"""The handoff queue: requests, the atomic first-Take-wins claim, release, transfer, close, rating, report.

Every operation is one database transaction that changes the case and queues the messages it
causes in the outbox, so either both happen or neither does, whichever process runs it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, desc, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.retry import retry_on_conflict
from bot.handoff import erasure
from bot.handoff.models import Handoff, Offer, OutboxMessage, RecentTurn, TranscriptEntry, Volunteer
from bot.handoff.relay import copy_to_volunteer
from bot.handoff.routing import Desk, pick_case, skill_for

logger = logging.getLogger(__name__)

LABEL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud without confusion
Reason = Literal["asked", "not_understood", "emergency"]
TakeOutcome = Literal["taken", "lost", "full", "not_offered", "offline"]


def new_label() -> str:
    return "".join(secrets.choice(LABEL_ALPHABET) for _ in range(4))


@dataclass(frozen=True)
class Requester:
    """Who asks for a person: pseudonyms, plus the chat id the relay must reach."""

    user_key: str
    engine_id: str
    chat_id: int
    language: str


@dataclass(frozen=True)
class HandoffQueue:
    """Changes of a case's state."""

    desk: Desk
    area_of: dict[str, str]

    @retry_on_conflict
    async def request(self, requester: Requester, reason: Reason, topic: str | None = None, *,
                      urgent: bool = False, help_text: str | None = None) -> Handoff:
        """Queue the user for a person (or tell them where they stand), and notify volunteers."""
        desk = self.desk
        async with desk.sessions.begin() as session:
            case = await self.desk.open_case(session, requester.user_key)
            if case is not None:
                if urgent and not case.urgent:
                    case.priority, case.reason = 1, "emergency"
                    await desk.offer(session, case, await desk.eligible(session, case, prefer_skill=False),
                                     again=True)
                text, position = await desk.queued_text(session, case, already=True)
                if case.status == "waiting":
                    message = await desk.send(session, requester.chat_id, text, handoff_id=case.id, purpose="ack")
                    case.ack_outbox_id, case.announced_position = message.id, position
                return case
            case = await self._create(session, requester, reason, topic, urgent)
            text, position = await desk.queued_text(session, case, help_text=help_text)
            message = await desk.send(session, requester.chat_id, text, handoff_id=case.id, purpose="ack")
            case.ack_outbox_id, case.announced_position = message.id, position
            volunteers = await desk.eligible(session, case, prefer_skill=True)
            await desk.offer(session, case, volunteers)
            logger.info("handoff %d queued (%s, %s, %d notified)", case.id, reason,
                        "urgent" if urgent else "normal", len(volunteers))
        desk.wake()
        return case

    async def _create(self, session: AsyncSession, requester: Requester, reason: Reason, topic: str | None,
                      urgent: bool) -> Handoff:
        now = self.desk.clock()
        for _ in range(10):
            try:
                async with session.begin_nested():
                    case = Handoff(
                        label=new_label(), user_key=requester.user_key, user_chat_id=requester.chat_id,
                        engine_id=requester.engine_id, language=requester.language, topic=topic, reason=reason,
                        priority=1 if urgent else 0, required_skill=skill_for(topic, self.area_of.get(topic or "")),
                        status="waiting", created_at=now, waiting_since=now,
                    )
                    session.add(case)
                    await session.flush()
                    return case
            except IntegrityError:
                existing = await self.desk.open_case(session, requester.user_key)
                if existing is not None:  # the same user asked twice at once: one case
                    return existing
        raise RuntimeError("could not find a free case label")

    @retry_on_conflict
    async def take(self, volunteer_chat_id: int, handoff_id: int) -> tuple[TakeOutcome, str | None]:
        """The first volunteer to press Take gets the case; everybody else is told it is taken."""
        desk = self.desk
        async with desk.sessions.begin() as session:
            volunteer = await desk.volunteer(session, volunteer_chat_id, lock=True)
            if volunteer is None:
                return "not_offered", None
            offered = await session.scalar(
                select(Offer.id).where(Offer.handoff_id == handoff_id, Offer.volunteer_id == volunteer.id))
            if offered is None:
                case = await session.get(Handoff, handoff_id)
                return ("lost" if case is not None and case.volunteer_id not in (None, volunteer.id)
                        and case.status != "waiting" else "not_offered"), None
            held = (await desk.held_counts(session)).get(volunteer.id, 0)
            if held >= volunteer.max_chats:
                return "full", str(held)
            now = desk.clock()
            # One statement decides: the case is still waiting and the volunteer still has room.
            # (SQLite runs it under its write lock; PostgreSQL re-checks the row and we hold the
            # volunteer's row lock, so two Takes by one volunteer cannot both pass the count.)
            other = aliased(Handoff)
            holding = (select(func.count()).select_from(other)
                       .where(other.volunteer_id == volunteer.id, other.status == "held").scalar_subquery())
            claimed = await session.execute(
                update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "waiting",
                                      holding < volunteer.max_chats)
                .values(status="held", volunteer_id=volunteer.id, taken_at=now)
                .execution_options(synchronize_session=False)
            )
            if not getattr(claimed, "rowcount", 0):
                status = await session.scalar(select(Handoff.status).where(Handoff.id == handoff_id))
                if status == "waiting":
                    return "full", str((await desk.held_counts(session)).get(volunteer.id, 0))
                return "lost", None
            case = await session.get(Handoff, handoff_id, populate_existing=True)
            assert case is not None
            if case.first_taken_at is None:
                case.first_taken_at = now
            volunteer.current_handoff_id = case.id
            await self._connect(session, case, volunteer)
            label, language = case.label, case.language
        await desk.refresh_positions_now(language)
        desk.wake()
        logger.info("handoff %d taken", handoff_id)
        return "taken", label

    async def _connect(self, session: AsyncSession, case: Handoff, volunteer: Volunteer) -> None:
        desk = self.desk
        await desk.withdraw_offers(session, case, taken_by=volunteer.id)
        recent = await self.recent_exchanges(session, case)
        await desk.send(session, volunteer.chat_id, desk.texts.card(desk.facts(case), volunteer.ui_language, recent),
                        handoff_id=case.id, purpose="card")
        for entry in await desk.unrelayed(session, case):
            await copy_to_volunteer(desk, session, case, volunteer, entry)
        await desk.send(session, case.user_chat_id, desk.texts.connected(case.language, volunteer.display_name),
                        handoff_id=case.id)

    async def recent_exchanges(self, session: AsyncSession, case: Handoff) -> list[tuple[str, str]]:
        turns = (await session.scalars(
            select(RecentTurn).where(RecentTurn.user_key == case.user_key).order_by(desc(RecentTurn.id)).limit(4)
        )).all()
        exchanges: list[tuple[str, str]] = []
        for turn in reversed(turns):
            exchanges.append(("user", turn.text))
            if turn.topic and turn.topic in self.desk.texts.knowledge.topics:
                exchanges.append(("bot", self.desk.texts.knowledge.title(turn.topic, case.language)))
        return exchanges

    async def requeue(self, session: AsyncSession, case: Handoff, *, note: str | None, silent: bool = False,
                      transferred_by: str | None = None) -> None:
        """Put a held case back in the queue, at the front of its priority (it keeps its waiting time)."""
        desk = self.desk
        previous = case.volunteer_id
        holder = await session.get(Volunteer, previous) if previous else None
        if holder is not None and holder.current_handoff_id == case.id:
            holder.current_handoff_id = None
        case.status, case.volunteer_id, case.taken_at = "waiting", None, None
        case.excluded_volunteer_id = previous
        case.renotified_at = case.alerted_at = case.reminded_at = None
        case.note = note or case.note
        await session.flush()
        if transferred_by is not None:
            await desk.send(session, case.user_chat_id, desk.texts.transferred(case.language, transferred_by),
                            handoff_id=case.id)
        else:
            position = await desk.position(session, case)
            await desk.send(session, case.user_chat_id, desk.texts.requeued(case.language, position, silent=silent),
                            handoff_id=case.id)
        for offer in (await session.scalars(select(Offer).where(Offer.handoff_id == case.id))).all():
            await session.delete(offer)
        await session.flush()
        await desk.offer(session, case, await desk.eligible(session, case, prefer_skill=True))

    async def held_case(self, session: AsyncSession, volunteer: Volunteer, label: str | None) -> Handoff | None:
        """The case a volunteer command is about: the one named, else the current one."""
        return pick_case(await self.desk.held_by(session, volunteer), volunteer, label)

    @retry_on_conflict
    async def release(self, volunteer_chat_id: int, label: str | None, note: str | None) -> str | None:
        """Give a held case back to the queue with a note for the next volunteer."""
        async with self.desk.sessions.begin() as session:
            volunteer = await self.desk.volunteer(session, volunteer_chat_id)
            case = await self.held_case(session, volunteer, label) if volunteer else None
            if volunteer is None or case is None:
                return None
            await self.requeue(session, case, note=note)
            await self.desk.send(session, volunteer.chat_id, self.desk.texts.volunteer_notice(
                volunteer.ui_language, "released", label=case.label))
            result = case.label
        self.desk.wake()
        return result

    @retry_on_conflict
    async def transfer(self, volunteer_chat_id: int, label: str | None, target: str, note: str | None
                       ) -> str | None:
        """Pass a held case to a volunteer with another language or skill."""
        async with self.desk.sessions.begin() as session:
            volunteer = await self.desk.volunteer(session, volunteer_chat_id)
            case = await self.held_case(session, volunteer, label) if volunteer else None
            if volunteer is None or case is None:
                return None
            if target in self.desk.texts.languages.codes:
                case.language = target
                target_name = self.desk.texts.language_name(target, volunteer.ui_language)
            else:
                case.required_skill = target
                target_name = self.desk.texts.skill_name(target, volunteer.ui_language)
            await self.requeue(session, case, note=note, transferred_by=volunteer.display_name)
            await self.desk.send(session, volunteer.chat_id, self.desk.texts.volunteer_notice(
                volunteer.ui_language, "transferred", label=case.label, target=target_name))
            result = case.label
        self.desk.wake()
        return result

    @retry_on_conflict
    async def close(self, volunteer_chat_id: int, label: str | None) -> str | None:
        """The volunteer ends the conversation: the user returns to the assistant and may rate it."""
        async with self.desk.sessions.begin() as session:
            volunteer = await self.desk.volunteer(session, volunteer_chat_id)
            case = await self.held_case(session, volunteer, label) if volunteer else None
            if volunteer is None or case is None:
                return None
            await self._close(session, case, by="volunteer")
            await self.desk.send(session, volunteer.chat_id, self.desk.texts.volunteer_notice(
                volunteer.ui_language, "closed", label=case.label))
            engine_id, result = case.engine_id, case.label
        await self.desk.reset_engine(engine_id)
        self.desk.wake()
        return result

    async def _close(self, session: AsyncSession, case: Handoff, *, by: str) -> None:
        case.status, case.closed_at, case.closed_by = "closed", self.desk.clock(), by
        volunteer = await session.get(Volunteer, case.volunteer_id) if case.volunteer_id else None
        if volunteer is not None and volunteer.current_handoff_id == case.id:
            volunteer.current_handoff_id = None
        await self.desk.send(session, case.user_chat_id,
                             self.desk.texts.closed(case.language, case.id, by_user=by == "user"),
                             handoff_id=case.id)

    @retry_on_conflict
    async def cancel(self, user_key: str, language: str, chat_id: int) -> Literal["left", "ended", "none"]:
        """The user leaves the queue, or ends the conversation with their volunteer."""
        desk = self.desk
        async with desk.sessions.begin() as session:
            case = await self.desk.open_case(session, user_key)
            if case is None:
                await desk.send(session, chat_id, desk.texts.not_waiting(language))
                outcome: Literal["left", "ended", "none"] = "none"
                engine_id = None
            elif case.status == "waiting":
                case.status, case.closed_at, case.closed_by = "cancelled", desk.clock(), "user"
                await desk.withdraw_offers(session, case, taken_by=None)
                await desk.send(session, chat_id, desk.texts.left_queue(case.language), handoff_id=case.id)
                outcome, engine_id, language = "left", None, case.language
            else:
                volunteer = await session.get(Volunteer, case.volunteer_id) if case.volunteer_id else None
                await self._close(session, case, by="user")
                if volunteer is not None:
                    await desk.send(session, volunteer.chat_id, desk.texts.volunteer_notice(
                        volunteer.ui_language, "user_left", label=case.label), handoff_id=case.id)
                outcome, engine_id = "ended", case.engine_id
        if engine_id is not None:
            await desk.reset_engine(engine_id)
        if outcome == "left":
            await desk.refresh_positions_now(language)
        desk.wake()
        return outcome

    @retry_on_conflict
    async def rate(self, user_key: str, handoff_id: int, stars: int) -> bool:
        """Record the user's 1-5 rating of a closed case of theirs (once)."""
        async with self.desk.sessions.begin() as session:
            case = await session.get(Handoff, handoff_id)
            if case is None or case.user_key != user_key or case.status != "closed" or case.rating is not None:
                return False
            case.rating = max(1, min(5, stars))
            await self.desk.send(session, case.user_chat_id, self.desk.texts.rated(case.language), handoff_id=case.id)
        self.desk.wake()
        return True

    @retry_on_conflict
    async def report(self, user_key: str, handoff_id: int | None, language: str, chat_id: int) -> bool:
        """Send the user's report of a volunteer to every coordinator; the transcript is kept."""
        desk = self.desk
        async with desk.sessions.begin() as session:
            query = select(Handoff).where(Handoff.user_key == user_key, Handoff.first_taken_at.is_not(None))
            if handoff_id is not None:
                query = query.where(Handoff.id == handoff_id)
            case = await session.scalar(query.order_by(desc(Handoff.id)).limit(1))
            if case is None:
                await desk.send(session, chat_id, desk.texts.nothing_to_report(language))
                reported = False
            else:
                case.reported_at = desk.clock()
                volunteer_id = case.volunteer_id or case.excluded_volunteer_id
                volunteer = await session.get(Volunteer, volunteer_id) if volunteer_id else None
                who = f"{volunteer.display_name} (#{volunteer.id})" if volunteer else "?"
                keep_until = (case.closed_at or desk.clock()) + desk.retention
                for coordinator in await desk.coordinators(session):
                    await desk.send(session, coordinator.chat_id, desk.texts.report(
                        coordinator.ui_language, case.label, who, keep_until), handoff_id=case.id)
                await desk.send(session, chat_id, desk.texts.reported(case.language), handoff_id=case.id)
                logger.info("handoff %d reported", case.id)
                reported = True
        desk.wake()
        return reported

    @retry_on_conflict
    async def forget(self, user_key: str, chat_id: int | None = None) -> int:
        """Delete every case of the user (ending an open one first) and every message to or from their chat
        (`chat_id`, and those of their cases); returns how many cases were deleted."""
        desk = self.desk
        async with desk.sessions.begin() as session:
            chats = await erasure.user_chats(session, user_key, chat_id)
            case = await self.desk.open_case(session, user_key)
            if case is not None:
                volunteer = await session.get(Volunteer, case.volunteer_id) if case.volunteer_id else None
                await desk.withdraw_offers(session, case, taken_by=None)
                if volunteer is not None and case.status == "held":
                    await desk.send(session, volunteer.chat_id, desk.texts.volunteer_notice(
                        volunteer.ui_language, "user_left", label=case.label))
                    if volunteer.current_handoff_id == case.id:
                        volunteer.current_handoff_id = None
                await erasure.keep_button_edits(session, case.id, chats)
            ids = (await session.scalars(select(Handoff.id).where(Handoff.user_key == user_key))).all()
            await erasure.erase_user(session, user_key, ids, chats)
            await delete_cases(session, ids)
        desk.wake()
        return len(ids)


async def delete_cases(session: AsyncSession, ids: Sequence[int]) -> None:
    """Delete cases with their transcript, offers and outbox messages (explicitly, not by cascade)."""
    if not ids:
        return
    await session.execute(delete(TranscriptEntry).where(TranscriptEntry.handoff_id.in_(ids)))
    await session.execute(delete(Offer).where(Offer.handoff_id.in_(ids)))
    await session.execute(delete(OutboxMessage).where(OutboxMessage.handoff_id.in_(ids)))
    await session.execute(delete(Handoff).where(Handoff.id.in_(ids)))
