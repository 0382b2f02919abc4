"""Bans: coordinators stop a user who abuses the service; the assistant then ignores them on purpose.

Coordinators name the person by a case code (volunteers never see Telegram ids), and the ban is
stored under the user's pseudonym only. A banned user gets one neutral notice, and from then on
nothing, except the emergency answer when a message matches a danger phrase (bot/abuse.py):
safety comes before the ban. A ban lasts until a coordinator lifts it, and it survives /forget,
which would otherwise be a way around it. Only coordinators see or change bans.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Ban
from bot.db.retry import retry_on_conflict
from bot.handoff.models import Handoff, Volunteer
from bot.handoff.routing import Desk
from bot.handoff.texts import BanLine

logger = logging.getLogger(__name__)

BanOutcome = Literal["banned", "already", "not_found", "refused"]


async def find(session: AsyncSession, user_key: str) -> Ban | None:
    """The user's ban, if they are banned."""
    ban: Ban | None = await session.scalar(select(Ban).where(Ban.user_key == user_key))
    return ban


@dataclass(frozen=True)
class Bans:
    """Banning and unbanning, by coordinators only (checked here too, not only by the command)."""

    desk: Desk

    async def _coordinator(self, session: AsyncSession, chat_id: int) -> Volunteer | None:
        volunteer = await self.desk.volunteer(session, chat_id)
        return volunteer if volunteer is not None and volunteer.is_coordinator else None

    @retry_on_conflict
    async def ban(self, coordinator_chat_id: int, label: str, reason: str | None) -> tuple[BanOutcome, int | None]:
        """Ban the person of case `label`; their open case ends. Returns the outcome and the ban's number."""
        desk = self.desk
        async with desk.sessions.begin() as session:
            coordinator = await self._coordinator(session, coordinator_chat_id)
            if coordinator is None:
                return "refused", None
            case = await session.scalar(select(Handoff).where(Handoff.label == label.upper()[:8]))
            if case is None:
                return "not_found", None
            existing = await find(session, case.user_key)
            if existing is not None:
                return "already", existing.id
            ban = Ban(user_key=case.user_key, case_label=case.label, reason=(reason or "")[:500] or None,
                      banned_by=coordinator.id, created_at=desk.clock())
            try:
                async with session.begin_nested():
                    session.add(ban)
                    await session.flush()
            except IntegrityError:  # another coordinator banned the same person at this moment
                existing = await find(session, case.user_key)
                return "already", existing.id if existing else None
            await self._end_open_case(session, case.user_key)
            number = ban.id
        desk.wake()
        logger.info("user banned (ban %d)", number)
        return "banned", number

    async def _end_open_case(self, session: AsyncSession, user_key: str) -> None:
        """Take the banned person out of the queue, or end their chat, without writing to them."""
        desk = self.desk
        case = await desk.open_case(session, user_key, lock=True)
        if case is None:
            return
        await desk.withdraw_offers(session, case, taken_by=None)
        volunteer = await session.get(Volunteer, case.volunteer_id) if case.volunteer_id else None
        case.status = "closed" if case.status == "held" else "cancelled"
        case.closed_at, case.closed_by = desk.clock(), "coordinator"
        if volunteer is not None:
            if volunteer.current_handoff_id == case.id:
                volunteer.current_handoff_id = None
            await desk.send(session, volunteer.chat_id, desk.texts.volunteer_notice(
                volunteer.ui_language, "closed_by_coordinator", label=case.label), handoff_id=case.id)

    @retry_on_conflict
    async def unban(self, coordinator_chat_id: int, reference: str) -> int | None:
        """Lift a ban named by its number ("3", "#3") or its case code; the number lifted, or None."""
        async with self.desk.sessions.begin() as session:
            if await self._coordinator(session, coordinator_chat_id) is None:
                return None
            ban = await session.scalar(select(Ban).where(Ban.case_label == reference.upper()[:8]))
            number = reference.removeprefix("#")
            if (ban is None or reference.startswith("#")) and number.isdigit() and len(number) < 10:
                ban = await session.get(Ban, int(number))
            if ban is None:
                return None
            await session.execute(delete(Ban).where(Ban.id == ban.id))
            lifted = ban.id
        logger.info("ban %d lifted", lifted)
        return lifted

    async def listed(self, coordinator_chat_id: int) -> Sequence[BanLine] | None:
        """Every ban, oldest first (None for anybody but a coordinator)."""
        async with self.desk.sessions() as session:
            if await self._coordinator(session, coordinator_chat_id) is None:
                return None
            rows = (await session.execute(
                select(Ban, Volunteer.display_name).outerjoin(Volunteer, Volunteer.id == Ban.banned_by)
                .order_by(Ban.id))).all()
        return [BanLine(ban.id, ban.case_label, ban.created_at, name, ban.reason) for ban, name in rows]

    async def notice_once(self, ban_id: int) -> bool:
        """True the first time only: the banned person gets one notice, whichever process sees them first."""
        async with self.desk.sessions.begin() as session:
            changed = await session.execute(
                update(Ban).where(Ban.id == ban_id, Ban.notified_at.is_(None)).values(notified_at=self.desk.clock())
                .execution_options(synchronize_session=False))
        return getattr(changed, "rowcount", 0) == 1
