"""An engine the bot started is started again when it dies, waiting longer after each quick death.

The engine here is a stand-in child process (a script in place of `rasa run` that dies after
0.3 s) answering readiness through a stand-in /status server: both at the process boundary. The
real engine, killed with SIGKILL and started again, is in test_engine_faults.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from bot.engine.client import EngineClient
from bot.engine.process import EngineServer
from bot.settings import Settings
from tests.local_server import serving

DELAYS = (0.2, 0.4, 0.8)
LIFETIME = 0.3  # how long the stand-in engine lives


@contextlib.asynccontextmanager
async def ready_status() -> AsyncIterator[str]:
    async def status(_: web.Request) -> web.Response:
        return web.json_response({"model_file": "stand-in.tar.gz"})

    app = web.Application()
    app.router.add_get("/status", status)
    async with serving(app) as url:
        yield url


def starts_in(path: Path) -> list[float]:
    return [float(line) for line in path.read_text().split()] if path.exists() else []


def dying_engine(root: Path, starts: Path) -> None:
    """A `rasa` that notes when it started, then dies."""
    rasa = root / ".venv-rasa" / "bin" / "rasa"
    rasa.parent.mkdir(parents=True)
    rasa.write_text(f"#!/bin/sh\ndate +%s.%N >> {starts}\nsleep {LIFETIME}\nexit 3\n")
    rasa.chmod(0o755)


async def test_a_dying_engine_is_started_again_waiting_longer_each_time_until_stopped(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    dying_engine(tmp_path / "root", starts)
    async with ready_status() as url:
        settings = make_settings(ASSISTANT_ROOT=str(tmp_path / "root"), ENGINE_URL=url,
                                 ENGINE_DATABASE_URL=f"sqlite:///{tmp_path / 'engine.db'}")
        client = EngineClient(url, settings.engine_token, 1.0)
        server = EngineServer(settings, tmp_path / "model.tar.gz")
        await server.start(client)
        restarted: list[int] = []
        server.supervise(client, on_restart=restarted.append, delays=DELAYS)
        deadline = time.monotonic() + 20
        while len(starts_in(starts)) < 5:
            assert time.monotonic() < deadline, f"only {len(starts_in(starts))} starts"
            await asyncio.sleep(0.05)
        await server.stop()
        await client.close()

    started = starts_in(starts)
    gaps = [later - earlier for earlier, later in itertools.pairwise(started)]
    for gap, delay in zip(gaps, (*DELAYS, DELAYS[-1]), strict=False):
        assert gap >= LIFETIME + delay - 0.05, gaps
    assert gaps[0] < gaps[1] < gaps[2]  # the delay grows while the engine keeps dying at once
    assert server.restarts == len(restarted) >= 4 and len(set(restarted)) == len(restarted)
    await asyncio.sleep(DELAYS[-1] + LIFETIME + 0.5)
    assert len(starts_in(starts)) == len(started)  # stopped means stopped: nothing started it again
