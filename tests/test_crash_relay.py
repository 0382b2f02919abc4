"""kill -9 in the middle of a handoff loses no relayed message.

The bot runs as deployed (`python -m bot telegram`, long polling) against the fake Bot API in
this process, on a SQLite file, and is killed with SIGKILL:

1. while it sends both ways: one call never reached Telegram, the other did but its answer was
   lost. After the restart both are sent again once their claims expire: the first arrives
   once, the second twice (at least once, on purpose), and that copy is flagged in the outbox.
2. after it fetched a message but before it could store it (the database locked): Telegram was
   never told the update arrived, hands it out again, and it is relayed.

Every message arrives in order; duplicates are limited to the one call in flight at each kill.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.session import create_engine, session_factory
from bot.handoff.models import Invite, OutboxMessage
from bot.handoff.outbox import CLAIM_TIMEOUT, MAYBE_TWICE
from bot.settings import ROOT
from tests.fake_telegram import FakeTelegram
from tests.handoff_world import VOLUNTEER_NAME, case_label, from_user, from_volunteer, take_case, write_locked
from tests.running_bot import join

pytestmark = pytest.mark.engine

VOLUNTEER, USER = 930, 631
STALL = CLAIM_TIMEOUT.total_seconds() + 5  # the fake holds the call until the bot is long dead
RESENT = CLAIM_TIMEOUT.total_seconds() + 30  # how long a resend may take after a restart


class BotProcess:
    """`python -m bot telegram` as its own process, started, killed with SIGKILL and started again."""

    def __init__(self, env: dict[str, str], log: Path, fake: FakeTelegram) -> None:
        self.env, self.log, self.fake = env, log, fake
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        polls = self._bootstraps()
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "telegram", cwd=ROOT, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log)
        await self.fake.wait_until(lambda: self._bootstraps() > polls, wait=120)

    def _bootstraps(self) -> int:
        return sum(s.method == "deleteWebhook" for s in self.fake.sent)

    async def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            await self.kill()


@pytest.fixture
async def world(engine_url: str, engine_env: dict[str, str], tmp_path: Path
                ) -> AsyncIterator[tuple[FakeTelegram, BotProcess, Path]]:
    fake = FakeTelegram()
    await fake.start()
    database = tmp_path / "bot.db"
    env = {**os.environ, **engine_env, "ENGINE_URL": engine_url, "TELEGRAM_BOT_TOKEN": fake.token,
           "TELEGRAM_API_URL": fake.base_url, "DATABASE_URL": f"sqlite:///{database}",
           "STATE_DIR": str(tmp_path / "state"), "HANDOFF_SWEEP_SECONDS": "3600", "LOG_LEVEL": "INFO"}
    bot = BotProcess(env, tmp_path / "bot.log", fake)
    try:
        await bot.start()
        yield fake, bot, database
    finally:
        await bot.stop()
        await fake.stop()


async def invite(database: Path) -> str:
    engine = create_engine(f"sqlite:///{database}")
    try:
        async with session_factory(engine).begin() as session:
            session.add(Invite(code="crashtest", role="volunteer",
                               expires_at=datetime.now(UTC) + timedelta(days=1)))
    finally:
        await engine.dispose()
    return "crashtest"


async def outbox_to(database: Path, chat_id: int) -> list[OutboxMessage]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        async with session_factory(engine)() as session:
            return list((await session.scalars(select(OutboxMessage).where(
                OutboxMessage.chat_id == chat_id, OutboxMessage.purpose == "relay").order_by(OutboxMessage.id))).all())
    finally:
        await engine.dispose()


async def eventually(condition: Callable[[], bool], wait: float = 20.0) -> None:
    """Wait until `condition()` holds (for what the fake saw but does not announce: refusals, fetches)."""
    deadline = time.monotonic() + wait
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)



async def test_kill_9_in_the_middle_of_relaying_loses_no_message(
        world: tuple[FakeTelegram, BotProcess, Path]) -> None:
    fake, bot, database = world
    await join(fake, VOLUNTEER, await invite(database), [], VOLUNTEER_NAME)
    await take_case(fake, VOLUNTEER, USER)
    label = case_label(fake, VOLUNTEER)

    await fake.push(fake.message_update(USER, "m1", language_code="en"))
    await fake.push(fake.message_update(VOLUNTEER, "r1", language_code="en"))
    await fake.wait_until(lambda: from_user(fake, VOLUNTEER, label) == ["m1"] and from_volunteer(fake, USER) == ["r1"])

    # 1. Killed during both sends: "m2" never reached Telegram, "r2" did but the answer was lost.
    fake.stall("sendMessage", STALL, delivered=False, chat_id=VOLUNTEER)
    await fake.push(fake.message_update(USER, "m2", language_code="en"))
    await eventually(lambda: any(s.chat_id == VOLUNTEER for s in fake.refused))
    fake.stall("sendMessage", STALL, delivered=True, chat_id=USER)
    await fake.push(fake.message_update(VOLUNTEER, "r2", language_code="en"))
    await fake.wait_until(lambda: "r2" in from_volunteer(fake, USER))
    await bot.kill()
    await bot.start()
    await fake.wait_until(lambda: "m2" in from_user(fake, VOLUNTEER, label)
                          and from_volunteer(fake, USER).count("r2") == 2, wait=RESENT)
    for _ in range(100):  # the resend is recorded (a kill before that would send it once more)
        if all(m.status == "sent" for m in await outbox_to(database, USER)):
            break
        await asyncio.sleep(0.1)

    # 2. Killed after fetching "m3" but before storing it: Telegram hands it out again.
    with write_locked(database):
        update = fake.message_update(USER, "m3", language_code="en")
        await fake.push(update)
        await eventually(lambda: update["update_id"] in fake.fetched)
        await asyncio.sleep(0.5)
        await bot.kill()
    assert update in fake.updates  # not confirmed to "Telegram"
    await bot.start()
    await fake.push(fake.message_update(USER, "m4", language_code="en"))
    await fake.push(fake.message_update(VOLUNTEER, "r3", language_code="en"))
    await fake.wait_until(lambda: "m4" in from_user(fake, VOLUNTEER, label) and "r3" in from_volunteer(fake, USER))
    await asyncio.sleep(1)

    assert from_user(fake, VOLUNTEER, label) == ["m1", "m2", "m3", "m4"]  # exactly once, in order
    assert from_volunteer(fake, USER) == ["r1", "r2", "r2", "r3"]  # at least once, in order
    flagged = [(m.text or "").rsplit("\n", 1)[-1] for m in await outbox_to(database, USER)
               if MAYBE_TWICE in (m.error or "")]
    assert flagged == ["r2"]  # the one copy that may be twice is flagged, and only that one
