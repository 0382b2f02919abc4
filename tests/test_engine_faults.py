"""The engine stops, hangs or answers garbage: the real bot apologises in the user's language within
3 seconds and offers a person, emergencies are still answered, and it recovers by itself.

The engine is real where it dies (killed with SIGKILL in the middle of a conversation, then started
again by hand or by the bot's own supervisor); where it hangs or talks nonsense it is a local
server at the process boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.engine.client import EngineClient
from bot.engine.process import EngineServer, ensure_trained
from bot.replies import Emergency, EngineDown, Said
from bot.settings import Settings
from tests.conftest import free_port
from tests.fake_telegram import FakeTelegram, Sent
from tests.local_server import serving
from tests.running_bot import RunningBot, running_bot

pytestmark = pytest.mark.engine

AMAL = 701  # writes in Arabic
ASYLUM = "كيف أقدم طلب لجوء؟"
WORK = "ما هي حقوقي في العمل؟"
DANGER = "ساعدوني رجل يحاول يقتلني"
DEADLINE = 3.0  # the bound: from the update reaching the bot's API to the apology


def fallback_of(bot: RunningBot) -> tuple[str, str]:
    """The apology and the "talk to a person" label, in Arabic, as the bot's catalogs say them."""
    outgoing = bot.services.renderer.render(Said(EngineDown(), "ar"))
    person = bot.services.catalogs.get("ar").p_("button", "Talk to a person")
    assert outgoing.text != bot.services.renderer.render(Said(EngineDown(), "en")).text  # really translated
    return outgoing.text, person


def emergency_of(bot: RunningBot) -> str:
    return bot.services.renderer.render(Said(Emergency(), "ar")).text


async def timed(fake: FakeTelegram, text: str, expect: int = 1) -> tuple[list[Sent], float]:
    """Push a message from Amal; the bot's first `expect` answers and how long the first one took."""
    before = len(fake.messages_to(AMAL))
    pushed = time.monotonic()
    await fake.push(fake.message_update(AMAL, text, language_code="ar"))
    sent = (await fake.wait_for_messages(AMAL, before + expect, wait=30))[before:]
    return sent, sent[0].at - pushed


def assert_apology(bot: RunningBot, sent: Sent, took: float) -> None:
    apology, person = fallback_of(bot)
    assert sent.text == apology
    assert (person, "h") in sent.buttons
    assert took < DEADLINE, f"the apology took {took:.2f} s"


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@pytest.fixture
async def own_engine(engine_env: dict[str, str], tmp_path: Path) -> AsyncIterator[tuple[EngineServer, EngineClient]]:
    """A real engine of this test alone (its own port, state and tracker store), to kill at will."""
    state = tmp_path / "engine"
    settings = Settings.from_env({**engine_env, "STATE_DIR": str(state),
                                  "ENGINE_URL": f"http://127.0.0.1:{free_port()}",
                                  "ENGINE_DATABASE_URL": f"sqlite:///{state / 'engine.db'}"})
    client = EngineClient(settings.engine_url, settings.engine_token, 10.0)
    server = EngineServer(settings, ensure_trained(settings))
    await server.start(client)
    try:
        yield server, client
    finally:
        await server.stop()
        await client.close()


async def test_a_killed_engine_gets_an_apology_in_time_emergencies_still_answered_and_recovery_by_itself(
        own_engine: tuple[EngineServer, EngineClient], make_settings: Callable[..., Settings]) -> None:
    server, client = own_engine
    async with running_bot(make_settings, server.settings.engine_url,
                           ENGINE_DATABASE_URL=server.settings.engine_database_url) as (fake, bot):
        [answer], _ = await timed(fake, ASYLUM)
        assert "لجوء" in answer.text and answer.text != fallback_of(bot)[0]

        assert server.pid is not None and server.process is not None
        kill_group(server.pid)
        await server.process.wait()
        [apology], took = await timed(fake, WORK)
        assert_apology(bot, apology, took)

        [first], took = await timed(fake, DANGER)
        assert first.text == emergency_of(bot) and took < DEADLINE

        await server.start(client)  # the engine comes back; the bot is not restarted
        [answer], _ = await timed(fake, ASYLUM)
        assert "لجوء" in answer.text and answer.text != fallback_of(bot)[0]


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """An engine that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for writer in held:
            writer.close()
        server.close()


@contextlib.asynccontextmanager
async def trickling_server() -> AsyncIterator[str]:
    """An engine that starts an answer and then sends one byte every half second."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(2000):
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.5)
        writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


@pytest.mark.parametrize("engine", [silent_server, trickling_server], ids=["silent", "trickling"])
async def test_a_hanging_engine_gets_an_apology_within_three_seconds(
        engine: Callable[[], contextlib.AbstractAsyncContextManager[str]],
        make_settings: Callable[..., Settings]) -> None:
    async with engine() as url, running_bot(make_settings, url) as (fake, bot):  # the bot starts without it
        [apology], took = await timed(fake, WORK)
        assert_apology(bot, apology, took)
        [apology], took = await timed(fake, ASYLUM)  # and again: no stuck connection slows the next one
        assert_apology(bot, apology, took)


GARBAGE: list[tuple[int, str | bytes, str]] = [
    (200, b"{not json", "application/json"),
    (200, b"", "application/json"),
    (200, b"<html>Gateway</html>", "text/html"),
    (200, b"[1, 2, 3]", "application/json"),
    (200, b'"a string"', "application/json"),
    (200, b"null", "application/json"),
    (200, b'{"intent": {"name": "greet"}, "confidence": 1, "messages": []}', "application/json"),
    (200, b'{"intent": "greet", "confidence": "high", "messages": []}', "application/json"),
    (200, b'{"intent": "greet", "confidence": 0.9, "messages": "hello"}', "application/json"),
    (200, b'{"intent": "greet", "confidence": 0.9, "ranking": [["greet"]], "messages": []}', "application/json"),
    (200, b'{"intent": "greet", "confidence": 0.9}', "application/json"),
    (200, b'{"intent": "/restart", "confidence": 0.9, "messages": []}', "application/json"),
    (500, b"Internal Server Error", "text/plain"),
    (502, b"", "text/plain"),
    (404, b"not found", "text/plain"),
    (401, b'{"error": "token"}', "application/json"),
]


@contextlib.asynccontextmanager
async def garbage_server() -> AsyncIterator[tuple[str, list[int]]]:
    """An engine that says it is up, then answers every message with the next item of GARBAGE."""
    served: list[int] = []
    answers = itertools.cycle(range(len(GARBAGE)))

    async def status(_: web.Request) -> web.Response:
        return web.json_response({"model_file": "garbage.tar.gz"})

    async def message(_: web.Request) -> web.Response:
        index = next(answers)
        served.append(index)
        code, body, content_type = GARBAGE[index]
        return web.Response(status=code, body=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/status", status)
    app.router.add_post("/webhooks/assistant/message", message)
    async with serving(app) as url:
        yield url, served


async def test_an_engine_answering_garbage_gets_an_apology_and_nothing_crashes(
        make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with garbage_server() as (url, served), running_bot(make_settings, url) as (fake, bot):
        for index in range(len(GARBAGE)):
            [apology], took = await timed(fake, WORK)
            assert served[-1] == index
            assert_apology(bot, apology, took)
        [first], _ = await timed(fake, DANGER)
        assert first.text == emergency_of(bot)
    assert not [r for r in caplog.records if r.name == "bot.handlers.errors"], "a handler failed"
    engine_failures = [r.getMessage() for r in caplog.records if r.getMessage().startswith("engine failed")]
    assert len(engine_failures) >= len(GARBAGE)


async def test_an_engine_the_bot_started_is_started_again_when_it_dies(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    overrides: dict[str, Any] = {"ENGINE_AUTOSTART": "true",
                                 "ENGINE_DATABASE_URL": f"sqlite:///{tmp_path / 'own-engine.db'}"}
    async with running_bot(make_settings, f"http://127.0.0.1:{free_port()}", **overrides) as (fake, bot):
        [answer], _ = await timed(fake, ASYLUM)
        assert "لجوء" in answer.text and answer.text != fallback_of(bot)[0]
        pid_file = bot.settings.state_dir / "engine.pid"
        first = int(pid_file.read_text())

        kill_group(first)
        [apology], took = await timed(fake, WORK)
        assert_apology(bot, apology, took)

        restarted = time.monotonic()
        while not (int(pid_file.read_text()) != first and await bot.services.engine.ready()):
            assert time.monotonic() - restarted < 120, "the engine was not started again"
            await asyncio.sleep(0.5)
        second = int(pid_file.read_text())
        [answer], _ = await timed(fake, ASYLUM)
        assert "لجوء" in answer.text and answer.text != fallback_of(bot)[0]
    assert not alive(second) and not pid_file.exists()  # stopped with the bot
