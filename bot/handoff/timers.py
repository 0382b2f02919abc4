"""Timers of the handoff, computed from database timestamps so they survive restarts.

Every bot process runs the same sweep; each action is guarded by a conditional update, so two
processes never re-notify, remind or requeue the same case twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff.models import Handoff, Invite, Offer, OutboxMessage, RecentTurn, Volunteer
from bot.handoff.queue import HandoffQueue, delete_cases
from bot.handoff.routing import Desk
from bot.periodic import repeat

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    """What one sweep did."""

    renotified: int = 0
    alerted: int = 0
    reminded: int = 0
    requeued: int = 0
    deleted: int = 0


@dataclass(frozen=True)
class Timers:
    """Re-notify, alert coordinators, remind and requeue, refresh queue places, delete old records."""

    desk: Desk
    queue: HandoffQueue

    async def run(self) -> None:
        """Sweep every `policy.sweep_every` seconds until cancelled."""
        await repeat(self.sweep, self.desk.policy.sweep_every, "handoff sweep")

    async def sweep(self) -> Sweep:
        now = self.desk.clock()
        renotified, alerted = await self._waiting(now)
        reminded, requeued = await self._held(now)
        deleted = await self.delete_expired(now)
        async with self.desk.sessions.begin() as session:
            languages = set((await session.scalars(select(Handoff.language).where(Handoff.status == "waiting"))).all())
            for language in sorted(languages):
                await self.desk.refresh_positions(session, language)
        self.desk.wake()
        return Sweep(renotified, alerted, reminded, requeued, deleted)

    async def _claim(self, session: AsyncSession, case: Handoff, column: str, status: str, now: datetime) -> bool:
        """Set a timer's timestamp if nobody (no other process) did: the winner acts."""
        result = await session.execute(
            update(Handoff).where(Handoff.id == case.id, Handoff.status == status,
                                  getattr(Handoff, column).is_(None))
            .values({column: now}).execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))

    async def _waiting(self, now: datetime) -> tuple[int, int]:
        policy, desk = self.desk.policy, self.desk
        renotified = alerted = 0
        async with desk.sessions.begin() as session:
            waiting = (await session.scalars(select(Handoff).where(Handoff.status == "waiting")
                                             .order_by(Handoff.id))).all()
            for case in waiting:
                waited = now - case.waiting_since
                if (waited >= policy.renotify_after and case.renotified_at is None
                        and await self._claim(session, case, "renotified_at", "waiting", now)):
                    await desk.offer(session, case, await desk.eligible(session, case, prefer_skill=False),
                                     again=True)
                    renotified += 1
                if (waited >= policy.alert_after and case.alerted_at is None
                        and await self._claim(session, case, "alerted_at", "waiting", now)):
                    online = await desk.online_for(session, case.language)
                    for coordinator in await desk.coordinators(session):
                        message = await desk.send(session, coordinator.chat_id,
                                                  desk.texts.alert(coordinator.ui_language, desk.facts(case), online),
                                                  handoff_id=case.id, purpose="offer")
                        offer = await session.scalar(select(Offer).where(
                            Offer.handoff_id == case.id, Offer.volunteer_id == coordinator.id))
                        if offer is None:
                            session.add(Offer(handoff_id=case.id, volunteer_id=coordinator.id, outbox_id=message.id,
                                              created_at=now))
                    logger.warning("handoff %d waiting for %d min: coordinators alerted", case.id,
                                   waited.total_seconds() // 60)
                    alerted += 1
        return renotified, alerted

    async def _held(self, now: datetime) -> tuple[int, int]:
        policy, desk = self.desk.policy, self.desk
        reminded = requeued = 0
        async with desk.sessions.begin() as session:
            held = (await session.scalars(select(Handoff).where(Handoff.status == "held").order_by(Handoff.id))).all()
            for case in held:
                if case.taken_at is None:
                    continue
                answered = case.last_volunteer_at
                awaiting = answered is None or (case.last_user_at is not None and case.last_user_at > answered)
                if not awaiting:
                    continue
                silent = now - max(case.taken_at, answered or case.taken_at)
                volunteer = await session.get(Volunteer, case.volunteer_id) if case.volunteer_id else None
                if silent >= policy.requeue_after:
                    claimed = await session.execute(
                        update(Handoff).where(Handoff.id == case.id, Handoff.status == "held",
                                              Handoff.volunteer_id == case.volunteer_id)
                        .values(status="requeueing").execution_options(synchronize_session=False))
                    if not getattr(claimed, "rowcount", 0):
                        continue
                    await session.refresh(case)
                    await self.queue.requeue(session, case, note=None, silent=True)
                    if volunteer is not None:
                        await desk.send(session, volunteer.chat_id, desk.texts.volunteer_notice(
                            volunteer.ui_language, "requeued", label=case.label,
                            minutes=desk.texts.minutes(silent, volunteer.ui_language)), handoff_id=case.id)
                    requeued += 1
                elif (silent >= policy.remind_after and case.reminded_at is None and volunteer is not None
                      and await self._claim(session, case, "reminded_at", "held", now)):
                    await desk.send(session, volunteer.chat_id, desk.texts.volunteer_notice(
                        volunteer.ui_language, "remind", label=case.label,
                        minutes=desk.texts.minutes(silent, volunteer.ui_language)), handoff_id=case.id)
                    reminded += 1
        return reminded, requeued

    async def delete_expired(self, now: datetime) -> int:
        """Delete cases (with transcript, offers and outbox) and recent turns older than the retention period."""
        cutoff = now - self.desk.retention
        async with self.desk.sessions.begin() as session:
            old = (await session.scalars(select(Handoff.id).where(
                Handoff.status.in_(("closed", "cancelled")), Handoff.closed_at < cutoff))).all()
            await delete_cases(session, old)
            await session.execute(delete(OutboxMessage).where(
                OutboxMessage.handoff_id.is_(None), OutboxMessage.created_at < cutoff,
                OutboxMessage.status.in_(("sent", "failed", "cancelled"))))
            await session.execute(delete(RecentTurn).where(RecentTurn.created_at < cutoff))
            await session.execute(delete(Invite).where(Invite.expires_at < cutoff))
        if old:
            logger.info("retention: %d closed cases deleted", len(old))
        return len(old)
