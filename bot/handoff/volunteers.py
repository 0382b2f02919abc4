"""Volunteers and coordinators: invites, registration, profile, online status, removal, statistics.

Only registered, active volunteers get anything from here; to everybody else these commands
do not exist (the handlers answer as they would for an unknown command).
"""

from __future__ import annotations

import logging
import secrets
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff.models import Handoff, Invite, Offer, TranscriptEntry, Volunteer
from bot.handoff.queue import HandoffQueue
from bot.handoff.routing import Desk
from bot.handoff.texts import SKILLS, CaseFacts, Stats, Text

logger = logging.getLogger(__name__)

INVITE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
Registration = Literal["registered", "already", "invalid"]
STATS_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class VolunteerDesk:
    """What volunteers and coordinators do besides relaying."""

    desk: Desk
    queue: HandoffQueue

    async def get(self, chat_id: int) -> Volunteer | None:
        async with self.desk.sessions() as session:
            return await self.desk.volunteer(session, chat_id)

    async def create_invite(self, role: str = "volunteer", created_by: int | None = None) -> Invite:
        """A new single-use code (also used by `python -m bot invite` for the first coordinator)."""
        now = self.desk.clock()
        async with self.desk.sessions.begin() as session:
            invite = Invite(code="".join(secrets.choice(INVITE_ALPHABET) for _ in range(10)), role=role,
                            created_by=created_by, created_at=now, expires_at=now + self.desk.policy.invite_valid)
            session.add(invite)
        return invite

    async def register(self, chat_id: int, code: str, name: str, ui_language: str) -> Registration:
        """Register with an invite code; the code is used up atomically."""
        now = self.desk.clock()
        async with self.desk.sessions.begin() as session:
            existing = await session.scalar(select(Volunteer).where(Volunteer.chat_id == chat_id))
            if existing is not None and existing.active:
                return "already"
            invite = await session.get(Invite, code.strip().lower()[:32], with_for_update=True)
            if invite is None or invite.used_at is not None or invite.expires_at < now:
                return "invalid"
            invite.used_at = now
            if existing is None:
                existing = Volunteer(chat_id=chat_id, display_name=name[:64] or "Volunteer", created_at=now,
                                     languages=[ui_language], skills=[], max_chats=2)
                session.add(existing)
            existing.active, existing.role, existing.ui_language = True, invite.role, ui_language
            await session.flush()
            invite.used_by = existing.id
            logger.info("volunteer %d registered (%s)", existing.id, invite.role)
        return "registered"

    async def profile(self, chat_id: int) -> Text | None:
        async with self.desk.sessions() as session:
            volunteer = await self.desk.volunteer(session, chat_id)
            return self._profile(volunteer) if volunteer else None

    def _profile(self, volunteer: Volunteer) -> Text:
        return self.desk.texts.profile(
            volunteer.ui_language, name=volunteer.display_name, languages=volunteer.languages,
            skills=volunteer.skills, max_chats=volunteer.max_chats, online=volunteer.online,
            coordinator=volunteer.is_coordinator)

    async def change(self, chat_id: int, setting: str, value: str) -> Text | None:
        """Toggle a language or skill, set the chat limit or the name; returns the new profile."""
        async with self.desk.sessions.begin() as session:
            volunteer = await self.desk.volunteer(session, chat_id)
            if volunteer is None:
                return None
            if setting == "vlang" and value in self.desk.texts.languages.codes:
                volunteer.languages = _toggled(volunteer.languages, value)
            elif setting == "vskill" and value in SKILLS:
                volunteer.skills = _toggled(volunteer.skills, value)
            elif setting == "vmax" and value.isdigit() and 1 <= int(value) <= 10:
                volunteer.max_chats = int(value)
            elif setting == "name" and value.strip():
                volunteer.display_name = " ".join(value.split())[:40]
            elif setting == "ui" and value in self.desk.texts.languages.codes:
                volunteer.ui_language = value
            return self._profile(volunteer)

    async def set_online(self, chat_id: int, online: bool) -> Text | None:
        """Switch new requests on or off; going online offers the cases already waiting."""
        async with self.desk.sessions.begin() as session:
            volunteer = await self.desk.volunteer(session, chat_id)
            if volunteer is None:
                return None
            volunteer.online = online
            await session.flush()
            if online:
                for case in await self._waiting(session, volunteer):
                    if volunteer in await self.desk.eligible(session, case, prefer_skill=False):
                        await self.desk.offer(session, case, [volunteer])
            text = self.desk.texts.status(volunteer.ui_language, online=online, languages=volunteer.languages)
        self.desk.wake()
        return text

    async def _waiting(self, session: AsyncSession, volunteer: Volunteer) -> Sequence[Handoff]:
        cases = (await session.scalars(
            select(Handoff).where(Handoff.status == "waiting")
            .order_by(Handoff.priority.desc(), Handoff.waiting_since))).all()
        return [case for case in cases if case.language in volunteer.languages]

    async def waiting_list(self, chat_id: int) -> Text | None:
        """/queue: the cases waiting in my languages, each now offered to me with a Take button."""
        async with self.desk.sessions.begin() as session:
            volunteer = await self.desk.volunteer(session, chat_id)
            if volunteer is None:
                return None
            cases = list(await self._waiting(session, volunteer))
            for case in cases[:8]:
                if case.excluded_volunteer_id != volunteer.id:
                    await _ensure_offer(session, case, volunteer, self.desk)
            text = self.desk.texts.queue_list(volunteer.ui_language, [self.desk.facts(c) for c in cases])
        return text

    async def switch(self, chat_id: int, label: str) -> Text | None:
        async with self.desk.sessions.begin() as session:
            volunteer = await self.desk.volunteer(session, chat_id)
            if volunteer is None:
                return None
            case = await self.queue.held_case(session, volunteer, label)
            if case is None:
                return self.desk.texts.volunteer_notice(volunteer.ui_language, "no_case")
            volunteer.current_handoff_id = case.id
            return self.desk.texts.volunteer_notice(volunteer.ui_language, "switched", label=case.label)

    async def canned(self, chat_id: int, key: str) -> bool:
        """Send a ready reply, in the user's language, to the volunteer's current case."""
        async with self.desk.sessions.begin() as session:
            volunteer = await self.desk.volunteer(session, chat_id)
            case = await self.queue.held_case(session, volunteer, None) if volunteer else None
            if volunteer is None or case is None:
                return False
            body = self.desk.texts.canned(key, case.language, name=volunteer.display_name)
            text = self.desk.texts.from_volunteer(case.language, volunteer.display_name, body)
            now = self.desk.clock()
            session.add(TranscriptEntry(handoff_id=case.id, sender="volunteer", kind="text", text=body,
                                        created_at=now, relayed=True))
            case.last_volunteer_at, case.reminded_at = now, None
            await self.desk.send(session, case.user_chat_id, Text(text, []), handoff_id=case.id, purpose="relay")
        self.desk.wake()
        return True

    # --- coordinators ---------------------------------------------------------------------------

    async def coordinator(self, chat_id: int) -> Volunteer | None:
        volunteer = await self.get(chat_id)
        return volunteer if volunteer is not None and volunteer.is_coordinator else None

    async def list_volunteers(self) -> list[Volunteer]:
        async with self.desk.sessions() as session:
            return list((await session.scalars(
                select(Volunteer).where(Volunteer.active.is_(True)).order_by(Volunteer.id))).all())

    async def remove(self, coordinator_chat_id: int, volunteer_id: int) -> int | None:
        """Deactivate a volunteer; the chats they held go back to the queue. None if not allowed."""
        async with self.desk.sessions.begin() as session:
            coordinator = await self.desk.volunteer(session, coordinator_chat_id)
            volunteer = await session.get(Volunteer, volunteer_id)
            if coordinator is None or not coordinator.is_coordinator or volunteer is None or not volunteer.active:
                return None
            volunteer.active, volunteer.online, volunteer.current_handoff_id = False, False, None
            held = (await session.scalars(
                select(Handoff).where(Handoff.volunteer_id == volunteer.id, Handoff.status == "held"))).all()
            for case in held:
                await self.queue.requeue(session, case, note=None)
            await self.desk.send(session, volunteer.chat_id,
                                 self.desk.texts.volunteer_notice(volunteer.ui_language, "removed"))
            logger.info("volunteer %d removed by a coordinator; %d chats requeued", volunteer.id, len(held))
        self.desk.wake()
        return len(held)

    async def stats(self) -> Stats:
        since = self.desk.clock() - STATS_WINDOW
        async with self.desk.sessions() as session:
            waiting = (await session.execute(
                select(Handoff.language, func.count()).where(Handoff.status == "waiting").group_by(Handoff.language)
            )).all()
            held = await session.scalar(select(func.count()).select_from(Handoff).where(Handoff.status == "held")) or 0
            volunteers = (await session.scalars(select(Volunteer).where(Volunteer.active.is_(True)))).all()
            recent = (await session.scalars(select(Handoff).where(Handoff.created_at >= since))).all()
        waits = [c.first_taken_at - c.created_at for c in recent if c.first_taken_at is not None]
        ratings = [c.rating for c in recent if c.rating is not None]
        return Stats(
            waiting=sum(count for _, count in waiting),
            waiting_by_language={language: count for language, count in waiting},
            held=held, volunteers_online=sum(1 for v in volunteers if v.online), volunteers=len(volunteers),
            taken=len(waits),
            median_wait=timedelta(seconds=statistics.median(w.total_seconds() for w in waits)) if waits else None,
            longest_wait=max(waits) if waits else None,
            ratings=len(ratings), average_rating=statistics.mean(ratings) if ratings else None,
            reports=sum(1 for c in recent if c.reported_at is not None),
        )

    async def transcript(self, coordinator_chat_id: int, label: str) -> list[str] | None:
        """The stored conversation of a case, for a coordinator reading a report."""
        async with self.desk.sessions() as session:
            coordinator = await self.desk.volunteer(session, coordinator_chat_id)
            if coordinator is None or not coordinator.is_coordinator:
                return None
            case = await session.scalar(select(Handoff).where(Handoff.label == label.upper()[:8]))
            if case is None:
                return []
            entries = (await session.scalars(
                select(TranscriptEntry).where(TranscriptEntry.handoff_id == case.id).order_by(TranscriptEntry.id)
            )).all()
            volunteer = await session.get(Volunteer, case.volunteer_id) if case.volunteer_id else None
        facts: CaseFacts = self.desk.facts(case)
        lines = [self.desk.texts.case_line(facts, coordinator.ui_language)]
        if volunteer is not None:
            lines.append(f"{volunteer.display_name} (#{volunteer.id})")
        for entry in entries:
            when = entry.created_at.strftime("%Y-%m-%d %H:%M")
            body = entry.text if entry.kind == "text" else f"[{entry.kind}] {entry.text or ''}"
            lines.append(f"{when} {entry.sender}: {body}")
        return lines


async def _ensure_offer(session: AsyncSession, case: Handoff, volunteer: Volunteer, desk: Desk) -> None:
    exists = await session.scalar(
        select(Offer.id).where(Offer.handoff_id == case.id, Offer.volunteer_id == volunteer.id))
    if exists is None:
        session.add(Offer(handoff_id=case.id, volunteer_id=volunteer.id, created_at=desk.clock()))


def _toggled(values: Sequence[str], value: str) -> list[str]:
    return [v for v in values if v != value] if value in values else [*values, value]
