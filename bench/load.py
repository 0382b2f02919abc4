"""End-to-end latency under load: the real bot (its own process) behind the fake Bot API, and the
engine alone through its REST channel, at fixed offered rates (open loop: arrivals do not wait)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.workload import Action
from tests.fake_telegram import FakeTelegram, Sent

USERS = 300
DRAIN_SECONDS = 10.0
PROBE_USER = 999
SETTLED = 0.2  # seconds: a probe answered this fast means no backlog is left


@dataclass(frozen=True)
class Step:
    """Latency at one offered rate."""

    target: str
    rate: float
    sent: int
    answered: int
    p50: float
    p95: float
    p99: float

    @property
    def lost(self) -> int:
        return self.sent - self.answered


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def step(target: str, rate: float, latencies: list[float], sent: int) -> Step:
    ms = [v * 1000 for v in latencies]
    return Step(target, rate, sent, len(ms), percentile(ms, 0.50), percentile(ms, 0.95), percentile(ms, 0.99))


class BotUnderLoad:
    """The bot as deployed (`python -m bot telegram`, long polling) talking to a fake Bot API."""

    def __init__(self, env: dict[str, str], root: Path) -> None:
        self.env = env
        self.root = root
        self.fake = FakeTelegram()
        self.fake.keep_sent = False
        self.process: asyncio.subprocess.Process | None = None
        self._pending: dict[int, float] = {}
        self._latencies: list[float] = []
        self._drained = asyncio.Event()

    async def start(self) -> None:
        await self.fake.start()
        self.fake.listener = self._on_sent
        self._ready = asyncio.Event()
        env = {**os.environ, **self.env, "TELEGRAM_BOT_TOKEN": self.fake.token,
               "TELEGRAM_API_URL": self.fake.base_url, "LOG_LEVEL": "WARNING",
               # Simulated users write faster than people: the flood limit is counted (its cost is
               # measured) but set too high to hold any message back.
               "FLOOD_MESSAGES_PER_MINUTE": "1000000"}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "telegram", cwd=self.root, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await asyncio.wait_for(self._ready.wait(), 120)

    def _on_sent(self, sent: Sent) -> None:
        if sent.method in {"getMe", "deleteWebhook"}:
            self._ready.set()
        if sent.method != "sendMessage" or sent.chat_id is None:
            return
        started = self._pending.pop(sent.chat_id, None)
        if started is not None:
            self._latencies.append(sent.at - started)
            if not self._pending:
                self._drained.set()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)
        await self.fake.stop()

    async def run(self, actions: list[Action], rate: float, seconds: float) -> Step:
        """Offer `rate` updates per second for `seconds`; each user has one message in flight."""
        self._latencies = []
        users = itertools.cycle(range(1_000_000, 1_000_000 + USERS))
        count = max(1, int(rate * seconds))
        started = time.monotonic()
        for index in range(count):
            await _sleep_until(started + index / rate)
            user = next((u for u in itertools.islice(users, USERS) if u not in self._pending), None)
            if user is None:
                continue  # every simulated user is still waiting: this arrival counts as lost
            action = actions[index % len(actions)]
            if action.kind == "button":
                update = self.fake.callback_update(user, action.value)
            else:
                update = self.fake.message_update(user, action.value)
            self._pending[user] = time.monotonic()
            await self.fake.push(update)
        if self._pending:
            self._drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), DRAIN_SECONDS)
        self._pending.clear()
        return step("bot", rate, self._latencies, count)

    async def settle(self, limit: float = 120.0) -> None:
        """Wait until a probe message is answered quickly again: the last step's backlog is gone."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            self._latencies = []
            self._pending[PROBE_USER] = time.monotonic()
            await self.fake.push(self.fake.message_update(PROBE_USER, "hello"))
            for _ in range(100):
                await asyncio.sleep(0.1)
                if self._latencies:
                    break
            self._pending.pop(PROBE_USER, None)
            if self._latencies and self._latencies[0] < SETTLED:
                return
            await asyncio.sleep(1.0)


async def engine_alone(url: str, actions: list[Action], rate: float, seconds: float) -> Step:
    """The same actions straight to the engine's REST channel: the reference the bot is compared to."""
    latencies: list[float] = []
    count = max(1, int(rate * seconds))
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(index: int) -> None:
            action = actions[index % len(actions)]
            sender = f"bench-{index % USERS}"
            begun = time.monotonic()
            try:
                response = await client.post("/webhooks/rest/webhook", json={"sender": sender,
                                                                              "message": action.engine_message()})
            except httpx.HTTPError:
                return  # counted as lost: no answer within the time limit
            if response.status_code == 200:
                latencies.append(time.monotonic() - begun)

        started = time.monotonic()
        tasks = []
        for index in range(count):
            await _sleep_until(started + index / rate)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.wait(tasks, timeout=DRAIN_SECONDS + seconds)
    return step("engine", rate, latencies, count)


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


Progress = Callable[[str], None]
