"""The retention job deletes what is older than RETENTION_DAYS: handoff transcripts, the engine's
conversation history and log files. The clock is moved, never waited for.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bot.db.session import create_engine
from bot.engine.tracker import EngineTrackerStore
from bot.handoff.models import Handoff, OutboxMessage, TranscriptEntry
from bot.handoff.relay import Incoming
from bot.handoff.service import Handoff as HandoffService
from bot.retention import Retention, Swept
from bot.services import Services
from tests.handoff_helpers import Clock, RecordingSender, add_volunteer, build_handoff, drain, requester

PERIOD = timedelta(days=30)



@pytest.fixture
def clock() -> Clock:
    """Real time to start with: log files and the engine's events carry real timestamps."""
    clock = Clock()
    clock.now = datetime.now(UTC)
    return clock


@pytest.fixture
async def no_engine_history(tmp_path: Path) -> AsyncIterator[EngineTrackerStore]:
    """An engine database without history yet (the session's engine keeps its own)."""
    tracker = EngineTrackerStore(f"sqlite:///{tmp_path / 'empty-engine.db'}")
    yield tracker
    await tracker.close()


def retention(services: Services, handoff: HandoffService, clock: Clock, tracker: EngineTrackerStore, logs: Path
              ) -> Retention:
    return Retention(PERIOD, services.sessions, handoff.timers, tracker, logs, clock=clock)


async def count(handoff: HandoffService, table: type[object], *where: object) -> int:
    async with handoff.desk.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table).where(*where)) or 0  # type: ignore[arg-type]


async def test_transcripts_are_deleted_after_the_period_even_in_a_case_still_open(
        db_services: Services, clock: Clock, no_engine_history: EngineTrackerStore, tmp_path: Path) -> None:
    handoff = build_handoff(db_services, clock)
    job = retention(db_services, handoff, clock, no_engine_history, tmp_path / "logs")
    sender = RecordingSender()
    await add_volunteer(handoff, 1, ["ar"])
    closed = await handoff.queue.request(requester(1), "asked")
    await handoff.queue.take(1, closed.id)
    await handoff.relay.from_user("user-key-1", Incoming(requester(1).chat_id, 10, "text", "an old question"))
    await handoff.queue.close(1, None)
    clock.advance(days=20)
    still_open = await handoff.queue.request(requester(2), "asked")
    await handoff.queue.take(1, still_open.id)
    await handoff.relay.from_user("user-key-2", Incoming(requester(2).chat_id, 20, "text", "twenty days old"))
    await drain(handoff, sender)

    clock.advance(days=10, minutes=-1)  # the first case was closed 30 days ago less a minute: all kept
    assert await job.sweep() == Swept()
    assert await count(handoff, Handoff) == 2

    clock.advance(minutes=2)
    swept = await job.sweep()
    assert swept.cases == 1 and await count(handoff, Handoff) == 1
    assert await count(handoff, TranscriptEntry) == 1  # the open case's message is 10 days younger

    clock.advance(days=20)  # the open case's message is now older than the period: it goes, the case stays
    await drain(handoff, sender)
    swept = await job.sweep()
    assert swept.case_messages >= 2  # its transcript line and the copy relayed to the volunteer
    assert await count(handoff, TranscriptEntry) == 0
    assert await count(handoff, OutboxMessage, OutboxMessage.purpose == "relay") == 0
    assert await count(handoff, Handoff, Handoff.id == still_open.id) == 1
    # The messages later edits refer to (the Take button, the place in the queue) stay while the case is open.
    assert await count(handoff, OutboxMessage, OutboxMessage.handoff_id == still_open.id,
                       OutboxMessage.purpose.in_(("offer", "ack"))) >= 1


async def test_log_files_are_cut_daily_and_deleted_after_the_period(
        services: Services, clock: Clock, no_engine_history: EngineTrackerStore, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    start = clock.now
    job = retention(services, build_handoff(services, clock), clock, no_engine_history, logs)
    handler = logging.FileHandler(logs / "bot.log", encoding="utf-8")  # as the console's log is written
    record = logging.getLogger("bot.test").makeRecord("bot.test", logging.INFO, __file__, 1, "%s", ("day 0",), None)
    handler.emit(record)
    (logs / "engine.log").write_text("engine day 0\n")
    try:
        assert (await job.sweep()).log_files == 0
        parts = sorted(p.name for p in logs.iterdir())
        day0 = clock.now.strftime("%Y%m%dT%H%M%S")
        assert parts == ["bot.log", f"bot.log.{day0}", "engine.log", f"engine.log.{day0}"]
        assert (logs / "bot.log").read_text() == "" and "day 0" in (logs / f"bot.log.{day0}").read_text()
        _set_mtime(logs / f"bot.log.{day0}", clock.now)
        _set_mtime(logs / f"engine.log.{day0}", clock.now)

        # The writer goes on in the emptied file, from its start.
        record.args = ("day 1",)
        handler.emit(record)
        clock.advance(hours=23)
        await job.sweep()
        assert len(list(logs.glob("bot.log.*"))) == 1  # not cut again within a day
        clock.advance(hours=1, minutes=1)
        await job.sweep()
        day1 = clock.now.strftime("%Y%m%dT%H%M%S")
        written = (logs / f"bot.log.{day1}").read_text()
        assert written.endswith("day 1\n") and "day 0" not in written and "\0" not in written
        _set_mtime(logs / f"bot.log.{day1}", clock.now)

        # A part holds at most a day: it goes when its newest line is 29 days old, so no line outlives 30 days.
        clock.now = start + PERIOD - timedelta(days=1) + timedelta(seconds=30)
        assert (await job.sweep()).log_files == 2  # day 0's parts of bot.log and engine.log
        assert sorted(p.name for p in logs.iterdir()) == ["bot.log", f"bot.log.{day1}", "engine.log"]
        clock.advance(days=1, minutes=1)
        assert (await job.sweep()).log_files == 1
        assert sorted(p.name for p in logs.iterdir()) == ["bot.log", "engine.log"]
    finally:
        handler.close()


def _set_mtime(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


@pytest.mark.engine
async def test_the_engines_history_is_deleted_after_the_period(
        live_services: Services, clock: Clock, tmp_path: Path) -> None:
    user = live_services.user(7300000001)
    async for _ in live_services.conversation.on_text(user, "How do I apply for asylum?"):
        pass
    # A copy of the engine's own database, so the session's engine keeps its history.
    copy = tmp_path / "engine.db"
    source = make_url(live_services.settings.engine_database_url).database
    assert source is not None
    with sqlite3.connect(source) as live, sqlite3.connect(copy) as target:
        live.backup(target)
    tracker = EngineTrackerStore(f"sqlite:///{copy}")
    handoff = build_handoff(live_services, clock)
    job = retention(live_services, handoff, clock, tracker, tmp_path / "logs")
    try:
        assert await events(copy, user.engine_id) > 0
        clock.advance(days=30, minutes=-1)
        await job.sweep()
        assert await events(copy, user.engine_id) > 0
        clock.advance(minutes=2)
        assert (await job.sweep()).engine_events > 0
        assert await events(copy, user.engine_id) == 0
    finally:
        await tracker.close()


async def events(database: Path, sender: str) -> int:
    engine = create_engine(f"sqlite:///{database}")
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(text("SELECT count(*) FROM events WHERE sender_id = :sender"),
                                            {"sender": sender})
            return int(found or 0)
    finally:
        await engine.dispose()
