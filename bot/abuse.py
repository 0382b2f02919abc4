"""The gate every user's update passes before anything else: bans and flood limits.

In this order:
1. Volunteers and coordinators pass: they were invited, and a limit must not cut their work.
2. A banned user is ignored on purpose: one neutral notice, then silence. An emergency message
   still gets the emergency answer (only that: no engine, no volunteer queue), because a ban
   must never stand between a person and the emergency numbers. /forget still works.
3. Emergency messages are never limited, nor counted.
4. Everything else is counted (bot/limits.py): messages, edits, commands and button presses.
   While a volunteer holds the user's case, messages are counted against the higher handoff
   limit; beyond it they are not relayed, and the user is told so (not lost silently).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from bot import bans
from bot.bans import Bans
from bot.handoff.models import OPEN, Handoff, Volunteer
from bot.limits import FloodLimiter, Scope
from bot.replies import NoticeKind

logger = logging.getLogger(__name__)

Action = Literal["pass", "notice", "emergency", "ignore"]


@dataclass(frozen=True)
class Verdict:
    """What to do with an update: pass it on, answer with a notice only, answer the emergency only, or drop it."""

    action: Action
    notice: NoticeKind | None = None


PASS = Verdict("pass")
IGNORE = Verdict("ignore")


@dataclass(frozen=True)
class Gatekeeper:
    """Screens each update of a private chat; the Telegram side is bot/handlers/gate.py."""

    limiter: FloodLimiter
    bans: Bans

    async def screen(self, user_key: str, chat_id: int, *, emergency: bool, forget: bool = False) -> Verdict:
        """The verdict on one update of `user_key` (writing from `chat_id`)."""
        async with self.bans.desk.sessions() as session:
            staff = await session.scalar(
                select(Volunteer.id).where(Volunteer.chat_id == chat_id, Volunteer.active.is_(True)))
            if staff is not None:
                return PASS
            ban = await bans.find(session, user_key)
            status = await session.scalar(
                select(Handoff.status).where(Handoff.user_key == user_key, Handoff.status.in_(OPEN)))
        if ban is not None:
            if forget:
                return PASS
            if emergency:
                logger.info("emergency from a banned user: emergency answer only")
                return Verdict("emergency")
            if await self.bans.notice_once(ban.id):
                return Verdict("notice", "banned")
            return IGNORE
        if emergency:
            return PASS
        scope: Scope = "handoff" if status == "held" else "assistant"
        admission = await self.limiter.admit(user_key, scope)
        if admission == "pass":
            return PASS
        if admission == "warn":
            logger.info("flood limit reached (%s): user told to slow down", scope)
            return Verdict("notice", "flood_handoff" if scope == "handoff" else "flood")
        logger.debug("message held back by the flood limit (%s)", scope)
        return IGNORE
