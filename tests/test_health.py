"""Health: `python -m bot health` and /health say what is up, and coordinators hear about outages.

The clock is moved instead of waiting a minute. What goes down is at the process boundary: a
stand-in engine that stops listening, and a TCP link to PostgreSQL that the test cuts and mends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiohttp import web

from bot.health import Coordinator, HealthMonitor, heartbeat_check, run_health
from bot.settings import ROOT, Settings
from tests.conftest import free_port
from tests.fake_telegram import FakeTelegram, Sent
from tests.running_bot import RunningBot, register, running_bot

CORA, VIC = 951, 952  # a coordinator and a volunteer


class MovedClock:
    """The monitor's clock, moved by the test."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return self.start + self.offset

    def at(self, seconds: float) -> None:
        self.offset = timedelta(seconds=seconds)


class StandInEngine:
    """Answers the engine's /status on a fixed port while it is up; nothing listens while it is down."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None

    async def up(self) -> None:
        async def status(_: web.Request) -> web.Response:
            return web.json_response({"model_file": "stand-in.tar.gz"})

        app = web.Application()
        app.router.add_get("/status", status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def down(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


class Cable:
    """A TCP link to the database that the test can cut (every connection dropped, new ones refused) and mend."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._open: list[asyncio.StreamWriter] = []

    async def mend(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in self._open:
            writer.transport.abort()
        self._open.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open += [writer, upstream_writer]

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while chunk := await source.read(65536):
                    sink.write(chunk)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(copy(reader, upstream_writer), copy(upstream_reader, writer))


@pytest.fixture
async def engine() -> AsyncIterator[StandInEngine]:
    stand_in = StandInEngine()
    await stand_in.up()
    try:
        yield stand_in
    finally:
        await stand_in.down()


def moved(bot: RunningBot) -> tuple[HealthMonitor, MovedClock]:
    monitor, clock = bot.services.health, MovedClock()
    monitor.clock = clock
    return monitor, clock


def new_messages(fake: FakeTelegram, chat: int, seen: int) -> list[Sent]:
    return fake.messages_to(chat)[seen:]


async def staff(fake: FakeTelegram, bot: RunningBot) -> None:
    await register(fake, bot, CORA, "Cora", role="coordinator")
    await register(fake, bot, VIC, "Vic")


async def test_coordinators_hear_once_when_the_engine_is_down_for_a_minute_and_once_when_it_is_back(
        make_settings: Callable[..., Settings], database_url: str, engine: StandInEngine) -> None:
    async with running_bot(make_settings, engine.url, DATABASE_URL=database_url,
                           HEALTH_PROBE_SECONDS="3600") as (fake, bot):
        await staff(fake, bot)
        monitor, clock = moved(bot)
        assert all(check.up for check in await monitor.check())
        assert monitor.coordinators == [Coordinator(CORA, "en")]  # volunteers are not alerted
        cora, vic = len(fake.messages_to(CORA)), len(fake.messages_to(VIC))

        await engine.down()
        for seconds in (0, 30, 59):
            clock.at(seconds)
            checks = await monitor.check()
        assert [check.up for check in checks] == [False, True]
        assert not new_messages(fake, CORA, cora)
        clock.at(61)
        await monitor.check()
        clock.at(90)
        await monitor.check()  # no second alert for the same outage
        [alert] = new_messages(fake, CORA, cora)
        assert alert.text == ("Alert: Conversation engine has not answered for 1 minute. Users get an apology "
                              "instead of answers. You will be told when it is back.")

        clock.at(120)
        [report] = await fake.say(fake.message_update(CORA, "/health", language_code="en"))
        lines = report.text.splitlines()
        assert lines[0].startswith("Bot: up (") and lines[0].endswith(" ms)")
        assert lines[1] == "Conversation engine: DOWN for 2 minutes"
        assert lines[2].startswith("Database: up (")
        [refusal] = await fake.say(fake.message_update(VIC, "/health", language_code="en"))
        assert "Database" not in refusal.text  # to everyone else /health does not exist

        # Telegram refuses the direct send (flood control): the all-clear goes through the outbox.
        await engine.up()
        fake.fail_next(CORA, 429, "Too Many Requests: retry after 1", retry_after=1)
        clock.at(180)
        await monitor.check()
        await fake.wait_until(lambda: len(fake.messages_to(CORA)) >= cora + 3)
        assert fake.messages_to(CORA)[-1].text == "Resolved: Conversation engine is back after 3 minutes."
        assert [refused.chat_id for refused in fake.refused] == [CORA]
        assert len(fake.messages_to(VIC)) == vic + 1  # only the refusal of /health


async def test_an_alert_about_the_database_reaches_coordinators_while_it_is_down(
        make_settings: Callable[..., Settings], postgres_url: str, engine: StandInEngine) -> None:
    parts = urlsplit(postgres_url)
    cable = Cable(parts.hostname or "127.0.0.1", parts.port or 5432)
    await cable.mend()
    through_cable = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{cable.port}"))
    try:
        async with running_bot(make_settings, engine.url, DATABASE_URL=through_cable,
                               HEALTH_PROBE_SECONDS="3600") as (fake, bot):
            await staff(fake, bot)
            monitor, clock = moved(bot)
            assert all(check.up for check in await monitor.check())
            cora = len(fake.messages_to(CORA))

            await cable.cut()
            clock.at(0)
            engine_check, database_check = await monitor.check()
            assert engine_check.up and not database_check.up
            [report] = await fake.say(fake.message_update(CORA, "/health", language_code="en"))
            assert report.text.splitlines()[2].startswith("Database: DOWN (no answer after ")

            clock.at(65)
            await monitor.check()  # the coordinators as last read: the database cannot say who they are
            [_, alert] = new_messages(fake, CORA, cora)
            assert alert.text.startswith("Alert: Database has not answered for 1 minute.")
            assert heartbeat_check(bot.settings.state_dir / "health.json", 3600).up  # the bot itself is alive

            await cable.mend()
            clock.at(180)
            await monitor.check()
            assert fake.messages_to(CORA)[-1].text == "Resolved: Database is back after 3 minutes."
    finally:
        await cable.cut()


async def run_cli(env: dict[str, str]) -> tuple[int, list[str]]:
    """`python -m bot health` in its own process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "health", cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, [" ".join(line.split()[:2]) for line in out.decode().splitlines()]


def beat_time(path: Path) -> float:
    try:
        return float(json.loads(path.read_text())["at"])
    except (OSError, ValueError, KeyError):
        return 0.0


@pytest.mark.engine
async def test_the_bot_probes_in_the_background_and_python_m_bot_health_reports_each_component(
        engine_url: str, engine_env: dict[str, str], make_settings: Callable[..., Settings]) -> None:
    async with running_bot(make_settings, engine_url, HEALTH_PROBE_SECONDS="0.2") as (_, bot):
        heartbeat = bot.settings.state_dir / "health.json"
        env = {**engine_env, "STATE_DIR": str(bot.settings.state_dir), "ENGINE_URL": engine_url,
               "DATABASE_URL": bot.settings.database_url, "HEALTH_PROBE_SECONDS": "0.2"}
        first = beat_time(heartbeat)
        deadline = time.monotonic() + 10
        while beat_time(heartbeat) <= first:  # probed again: the task runs on its interval
            assert time.monotonic() < deadline, "no heartbeat"
            await asyncio.sleep(0.1)
        code, lines = await run_cli(env)
        assert (code, lines) == (0, ["bot up", "engine up", "database up"])
    assert not heartbeat.exists()  # stopped with the bot
    code, lines = await run_cli(env)
    assert (code, lines) == (1, ["bot DOWN", "engine up", "database up"])
    code, lines = await run_cli({**env, "ENGINE_URL": f"http://127.0.0.1:{free_port()}"})
    assert (code, lines) == (1, ["bot DOWN", "engine DOWN", "database up"])
    assert await run_health(Settings.from_env(env)) == 1
