"""Learning from volunteers: replies they mark as good answers, for the editors' review list.

A volunteer replies /good to a message they wrote to a person (or sends /good after it). The
answer is stored with the person's question just before it, both with contact details masked,
and without anything that leads back to the person: the case and its transcript are deleted
after the retention period, the suggestion stays until an editor marks it used or dismissed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import desc, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handoff.models import GoodAnswer, Handoff, RecentTurn, TranscriptEntry, Volunteer
from bot.handoff.relay import mask_contact_details

logger = logging.getLogger(__name__)

Marked = Literal["saved", "already", "refused", "nothing"]
Handled = Literal["used", "dismissed"]
QUESTION_MESSAGES = 3
QUESTION_CHARS = 1000
ANSWER_CHARS = 4000


async def mark_good(sessions: async_sessionmaker[AsyncSession], volunteer_chat_id: int, reply_to: int | None,
                    now: datetime) -> Marked:
    """Store the volunteer's message `reply_to` (else their latest in their current case) as a suggestion.

    "refused": the message replied to is not a text the volunteer wrote to a person;
    "nothing": no reply, and they wrote no text to anybody yet.
    """
    async with sessions.begin() as session:
        volunteer = await session.scalar(
            select(Volunteer).where(Volunteer.chat_id == volunteer_chat_id, Volunteer.active.is_(True)))
        if volunteer is None:
            return "refused"
        entry = await _marked_message(session, volunteer, reply_to)
        if entry is None:
            return "nothing" if reply_to is None else "refused"
        assert entry.source_message_id is not None and entry.text is not None
        exists = await session.scalar(select(GoodAnswer.id).where(
            GoodAnswer.volunteer_id == volunteer.id, GoodAnswer.message_id == entry.source_message_id))
        if exists is not None:
            return "already"
        case = await session.get(Handoff, entry.handoff_id)
        assert case is not None  # a transcript entry is deleted with its case
        suggestion = GoodAnswer(
            language=case.language, topic=case.topic, question=await _question(session, case, entry),
            answer=mask_contact_details(entry.text.strip())[:ANSWER_CHARS], volunteer_id=volunteer.id,
            message_id=entry.source_message_id, status="new", created_at=now)
        try:
            async with session.begin_nested():
                session.add(suggestion)
                await session.flush()
        except IntegrityError:  # the same /good delivered twice at once
            return "already"
        logger.info("good answer %d suggested by volunteer %d", suggestion.id, volunteer.id)
    return "saved"


async def _marked_message(session: AsyncSession, volunteer: Volunteer, reply_to: int | None
                          ) -> TranscriptEntry | None:
    """The text the volunteer wrote that /good is about; None when it is not one of theirs."""
    own = select(TranscriptEntry).where(TranscriptEntry.source_chat_id == volunteer.chat_id,
                                        TranscriptEntry.sender == "volunteer")
    if reply_to is not None:
        # The newest version of an edited message.
        query = own.where(TranscriptEntry.source_message_id == reply_to).order_by(
            desc(TranscriptEntry.edit_date), desc(TranscriptEntry.id))
    else:
        query = own.where(TranscriptEntry.kind == "text").order_by(desc(TranscriptEntry.id))
        if volunteer.current_handoff_id is not None:
            query = query.where(TranscriptEntry.handoff_id == volunteer.current_handoff_id)
    entry = await session.scalar(query.limit(1))
    if entry is None or entry.kind != "text" or not (entry.text or "").strip():
        return None
    return entry


async def _question(session: AsyncSession, case: Handoff, answer: TranscriptEntry) -> str:
    """The person's text messages just before the answer; before the handoff, what they asked the assistant."""
    earlier = (await session.scalars(
        select(TranscriptEntry).where(TranscriptEntry.handoff_id == case.id, TranscriptEntry.id < answer.id)
        .order_by(desc(TranscriptEntry.id)).limit(30))).all()
    asked: list[str] = []
    seen: set[int | None] = set()
    for entry in earlier:
        if entry.sender != "user":
            if asked:  # what came before belongs to an earlier exchange
                break
            continue
        if entry.source_message_id in seen:  # an older version of an edited message
            continue
        seen.add(entry.source_message_id)
        if entry.kind == "text" and entry.text and entry.text.strip():
            asked.append(entry.text.strip())
        if len(asked) == QUESTION_MESSAGES:
            break
    if not asked:
        turns = (await session.scalars(
            select(RecentTurn.text).where(RecentTurn.user_key == case.user_key,
                                          RecentTurn.created_at <= answer.created_at)
            .order_by(desc(RecentTurn.id)).limit(QUESTION_MESSAGES))).all()
        asked = [text.strip() for text in turns if text.strip()]
    kept: list[str] = []
    for text in asked:  # newest first: the message closest to the answer matters most
        if kept and sum(len(t) + 1 for t in kept) + len(text) > QUESTION_CHARS:
            break
        kept.append(text)
    return mask_contact_details("\n".join(reversed(kept)))[:QUESTION_CHARS]


# --- the review list --------------------------------------------------------------------------


async def count_new(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(GoodAnswer).where(GoodAnswer.status == "new")) or 0


async def listed(session: AsyncSession, *, handled_too: bool = False, newest_first: bool = False,
                 limit: int | None = None) -> Sequence[GoodAnswer]:
    """The new suggestions (and the handled ones too when asked), oldest first unless told."""
    query = select(GoodAnswer)
    if not handled_too:
        query = query.where(GoodAnswer.status == "new")
    query = query.order_by(desc(GoodAnswer.id) if newest_first else GoodAnswer.id)
    return (await session.scalars(query.limit(limit) if limit else query)).all()


async def handle(session: AsyncSession, suggestion_id: int, status: Handled, note: str | None,
                 now: datetime) -> GoodAnswer | None:
    """Mark a suggestion used or dismissed; None when there is no such suggestion."""
    suggestion = await session.get(GoodAnswer, suggestion_id)
    if suggestion is None:
        return None
    suggestion.status, suggestion.handled_at, suggestion.handled_note = status, now, note
    return suggestion
