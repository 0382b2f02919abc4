"""Tables of the handoff: volunteers, invites, cases, their transcript, offers, the outbox, good answers.

Every timer is computed from these timestamps, so a restart loses nothing. Users appear only
as pseudonyms plus the chat id the relay needs; the chat id is deleted with the case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base, UTCDateTime, utcnow

OPEN = ("waiting", "held")
_OPEN_SQL = text("status IN ('waiting', 'held')")


class Volunteer(Base):
    """A registered volunteer or coordinator. Staff are reached by their chat id, so it is stored."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="volunteer")  # volunteer | coordinator
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_chats: Mapped[int] = mapped_column(Integer, default=2)
    ui_language: Mapped[str] = mapped_column(String(8), default="en")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    current_handoff_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"


class Invite(Base):
    """A single-use registration code issued by a coordinator."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="volunteer")
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(Integer)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Handoff(Base):
    """One escalated chat ("case"), from the request to its close."""

    __tablename__ = "handoffs"
    __table_args__ = (
        # One open request per user, enforced by the database even with two bot processes.
        Index("one_open_handoff_per_user", "user_key", unique=True,
              sqlite_where=_OPEN_SQL, postgresql_where=_OPEN_SQL),
        Index("handoffs_by_status", "status", "priority", "waiting_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(8), unique=True)
    user_key: Mapped[str] = mapped_column(String(64), index=True)
    user_chat_id: Mapped[int] = mapped_column(BigInteger)
    engine_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))  # asked | not_understood | emergency
    priority: Mapped[int] = mapped_column(Integer, default=0)  # 1 = urgent
    required_skill: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="waiting")  # waiting | held | closed | cancelled
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    excluded_volunteer_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(16))  # volunteer | user | coordinator
    last_user_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_volunteer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renotified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_outbox_id: Mapped[int | None] = mapped_column(Integer)
    announced_position: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[int | None] = mapped_column(Integer)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def urgent(self) -> bool:
        return self.priority > 0


class TranscriptEntry(Base):
    """One message of a case (user, volunteer, bot or system), kept for the retention period."""

    __tablename__ = "handoff_messages"
    __table_args__ = (
        # The same Telegram message delivered twice (webhook retry, two processes) is stored once.
        UniqueConstraint("source_chat_id", "source_message_id", "edit_date", name="handoff_message_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(12))  # user | volunteer | bot
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str | None] = mapped_column(Text)
    source_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    source_message_id: Mapped[int | None] = mapped_column(BigInteger)
    edit_date: Mapped[int] = mapped_column(BigInteger, default=0)
    relayed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecentTurn(Base):
    """The last few exchanges of a user with the bot, for the volunteer's case card."""

    __tablename__ = "recent_turns"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Offer(Base):
    """A case shown to a volunteer with a Take button; only offered or held cases can be taken."""

    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("handoff_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(Base):
    """A message to send, stored before it is sent; per recipient chat, sent in (`seq`, `id`) order.

    status: pending -> sending -> sent | failed; `held` waits for a coordinator's decision.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("outbox_chat_sequence", "chat_id", "seq"),
        Index("outbox_due", "status", "next_attempt_at"),
        Index("outbox_by_sent_message", "chat_id", "sent_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="notice")  # relay | offer | ack | notice | ...
    text: Mapped[str | None] = mapped_column(Text)
    buttons: Mapped[list[list[list[str]]] | None] = mapped_column(JSON)
    copy_from_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    copy_message_id: Mapped[int | None] = mapped_column(BigInteger)
    edit_of: Mapped[int | None] = mapped_column(Integer)
    origin_chat_id: Mapped[int | None] = mapped_column(BigInteger)  # told when delivery finally fails
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class GoodAnswer(Base):
    """A reply a volunteer marked as a good answer, in the editors' review list until they handle it.

    It outlives the case (deleted after the retention period), so it holds no link to the user or
    the case: only the language, the topic and the two texts with contact details masked.
    """

    __tablename__ = "good_answers"
    __table_args__ = (
        # Marking the same message twice stores it once.
        UniqueConstraint("volunteer_id", "message_id", name="good_answer_once"),
        Index("good_answers_by_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    message_id: Mapped[int] = mapped_column(BigInteger)  # the marked message, in the volunteer's own chat
    status: Mapped[str] = mapped_column(String(12), default="new")  # new | used | dismissed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_note: Mapped[str | None] = mapped_column(Text)
