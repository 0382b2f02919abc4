"""Erasure of one user from the handoff's tables, for /forget.

Everything keyed by the user's pseudonym or their chat goes: cases (with their rating), transcripts,
offers, every outbox message to, from or copied from the user's chat, the last exchanges shown on
case cards, and the editors' suggestions made from the user's cases (their question is the user's
words). Volunteers keep only what shows the case code: their Take buttons still change to "no
longer waiting", so those offers and edits are kept apart from the case, without its details.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff.models import GoodAnswer, Handoff, OutboxMessage, RecentTurn, TranscriptEntry, Volunteer

# Messages to volunteers that change or carry a Take button; they name only the case code.
BUTTON_PURPOSES = ("offer", "edit")


async def keep_button_edits(session: AsyncSession, handoff_id: int, chats: Collection[int]) -> None:
    """Detach the volunteers' offers of a case, and their pending edits, from it before it is deleted.

    An edit needs the message it edits, so both stay (deleted later by retention, as any message
    without a case); an offer already sent keeps no text, since Telegram has it.
    """
    rows = (OutboxMessage.handoff_id == handoff_id, OutboxMessage.purpose.in_(BUTTON_PURPOSES),
            OutboxMessage.chat_id.not_in(chats))
    done = OutboxMessage.status.in_(("sent", "failed", "cancelled"))
    await session.execute(update(OutboxMessage).where(*rows, done)
                          .values(text=None, buttons=None).execution_options(synchronize_session=False))
    await session.execute(update(OutboxMessage).where(*rows).values(handoff_id=None)
                          .execution_options(synchronize_session=False))


async def erase_user(session: AsyncSession, user_key: str, case_ids: Sequence[int], chats: Collection[int]) -> None:
    """Delete what the cases `case_ids` and the chats `chats` left (the cases themselves are deleted apart)."""
    await _delete_suggestions_from(session, case_ids)
    if chats:
        await session.execute(delete(OutboxMessage).where(or_(
            OutboxMessage.chat_id.in_(chats), OutboxMessage.copy_from_chat_id.in_(chats),
            OutboxMessage.origin_chat_id.in_(chats))))
    await session.execute(delete(RecentTurn).where(RecentTurn.user_key == user_key))


async def user_chats(session: AsyncSession, user_key: str, chat_id: int | None) -> set[int]:
    """The chats the user wrote from: the one they write from now, and those of their cases."""
    chats = set((await session.scalars(select(Handoff.user_chat_id).where(Handoff.user_key == user_key))).all())
    return chats | ({chat_id} if chat_id is not None else set())


async def _delete_suggestions_from(session: AsyncSession, case_ids: Sequence[int]) -> None:
    """Delete the good answers volunteers marked in these cases (found through the transcript, the only link)."""
    if not case_ids:
        return
    marked = set((await session.execute(
        select(Volunteer.id, TranscriptEntry.source_message_id)
        .join(Volunteer, Volunteer.chat_id == TranscriptEntry.source_chat_id)
        .where(TranscriptEntry.handoff_id.in_(case_ids), TranscriptEntry.sender == "volunteer"))).tuples().all())
    if not marked:
        return
    candidates = (await session.execute(
        select(GoodAnswer.id, GoodAnswer.volunteer_id, GoodAnswer.message_id)
        .where(GoodAnswer.message_id.in_({message_id for _, message_id in marked})))).tuples().all()
    ids = [id_ for id_, volunteer_id, message_id in candidates if (volunteer_id, message_id) in marked]
    if ids:
        await session.execute(delete(GoodAnswer).where(GoodAnswer.id.in_(ids)))
