"""SQLAlchemy models of the bot's own database (the engine keeps its tracker store separately)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Dialect, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always reads back as aware UTC (SQLite returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and dialect.name == "sqlite":
            # SQLite compares timestamps as text: store every one in UTC so the order holds.
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Base class of every table the bot owns."""


class UserPreference(Base):
    """What the bot remembers about a user, keyed by a pseudonym, never a Telegram id."""

    __tablename__ = "user_preferences"

    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    chosen_language: Mapped[str | None] = mapped_column(String(8))
    last_language: Mapped[str | None] = mapped_column(String(8))
    # Answers in a row the engine did not understand; the second one escalates to a person.
    misunderstood: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A guided flow waiting for the user's next message (e.g. "finder:legal": a city is expected).
    pending: Mapped[str | None] = mapped_column(String(64))
    pending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class KnowledgeEntry(Base):
    """One topic's answer in one language, loaded from knowledge_base/<lang>/*.yml."""

    __tablename__ = "knowledge_entries"
    __table_args__ = (UniqueConstraint("topic", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    related: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_reviewed: Mapped[date] = mapped_column(Date)
    review: Mapped[str] = mapped_column(String(32), default="draft", server_default="draft")
    source_file: Mapped[str] = mapped_column(String(300))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeText(Base):
    """A text of the knowledge base that is not a topic's answer: guided-flow texts and country notes.

    Keys are dotted paths, e.g. "flow:detention.who.text" or "note:TR:rights_detention".
    """

    __tablename__ = "knowledge_texts"
    __table_args__ = (UniqueConstraint("language", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(160))
    text: Mapped[str] = mapped_column(Text)
    source_file: Mapped[str] = mapped_column(String(300))


class ServiceCity(Base):
    """A city the service directory knows, with the names users may write it with."""

    __tablename__ = "service_cities"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    names: Mapped[list[str]] = mapped_column(JSON, default=list)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class ServiceEntry(Base):
    """One service of the directory (knowledge_base/services/*.yml)."""

    __tablename__ = "service_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    country: Mapped[str | None] = mapped_column(String(2))  # None: everywhere (an online service)
    city: Mapped[str | None] = mapped_column(String(32))  # None: the whole country
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(40))
    hours: Mapped[str | None] = mapped_column(String(120))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(300))
    last_verified: Mapped[date] = mapped_column(Date)
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    review: Mapped[str] = mapped_column(String(32), default="draft")
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    source_file: Mapped[str] = mapped_column(String(300))


class FloodBucket(Base):
    """How many messages a user may still send now, per scope (bot/limits.py); dropped when idle."""

    __tablename__ = "flood_buckets"

    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # assistant | handoff
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Compare-and-set counter: two bot processes updating one bucket never both win.
    version: Mapped[int] = mapped_column(Integer, default=0)


class Ban(Base):
    """A user a coordinator banned, by pseudonym only; the assistant ignores them except in an emergency."""

    __tablename__ = "bans"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64), unique=True)
    case_label: Mapped[str] = mapped_column(String(8))  # how coordinators know the person
    reason: Mapped[str | None] = mapped_column(Text)
    banned_by: Mapped[int | None] = mapped_column(Integer)  # volunteers.id of the coordinator
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the one notice the person gets
