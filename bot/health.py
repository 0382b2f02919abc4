"""Health: whether the bot, the engine and the database answer, and alerts to coordinators.

`probe_engine` and `probe_database` time one request each. In the running bot, `HealthMonitor`
probes every HEALTH_PROBE_SECONDS, writes a heartbeat file that `python -m bot health` reads, and
tells every coordinator once when the engine or the database has not answered for
HEALTH_ALERT_SECONDS, and once more when it is back. Alerts go straight to the Bot API, to the
coordinators read at the last probe the database answered: the outbox lives in the database,
which may be what is down. It is only the fallback when Telegram refuses a direct send.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.session import create_engine
from bot.engine.client import EngineClient
from bot.handoff.models import Volunteer
from bot.handoff.routing import Desk
from bot.handoff.service import utc_clock
from bot.handoff.texts import Text
from bot.periodic import Background
from bot.settings import Settings

logger = logging.getLogger(__name__)

DATABASE_TIMEOUT = 5.0  # seconds a probe waits for the database
HEARTBEAT_FILE = "health.json"
MAX_PENDING_ALERTS = 200
SendText = Callable[[int, str], Awaitable[object]]


@dataclass(frozen=True)
class Check:
    """One component's state: up or not, and how long the probe took (seconds)."""

    component: str  # bot | engine | database
    up: bool
    seconds: float
    detail: str = ""  # for operators: never message text or identifiers


@dataclass(frozen=True)
class Coordinator:
    """Where an alert goes, and in which language."""

    chat_id: int
    language: str


@dataclass
class Outage:
    """A component that stopped answering at `since`; `alerted` once coordinators were told."""

    since: datetime
    alerted: bool = False


async def probe_engine(engine: EngineClient) -> Check:
    """Whether the engine answers with a model loaded (bounded by ENGINE_TIMEOUT)."""
    started = time.monotonic()
    loaded = await engine.model_file()
    return Check("engine", loaded is not None, time.monotonic() - started, "" if loaded else "no answer")


async def probe_database(database: AsyncEngine, wait: float = DATABASE_TIMEOUT) -> Check:
    """Whether the database answers a read of the bot's own tables."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(wait), database.connect() as connection:
            await connection.execute(text("SELECT 1 FROM volunteers LIMIT 1"))
    except TimeoutError:
        return Check("database", False, time.monotonic() - started, "no answer")
    except Exception as exc:  # whatever the driver raises, the database did not answer
        return Check("database", False, time.monotonic() - started, type(exc).__name__)
    return Check("database", True, time.monotonic() - started)


async def read_coordinators(database: AsyncEngine) -> list[Coordinator]:
    async with asyncio.timeout(DATABASE_TIMEOUT), database.connect() as connection:
        rows = await connection.execute(
            select(Volunteer.chat_id, Volunteer.ui_language)
            .where(Volunteer.role == "coordinator", Volunteer.active.is_(True)).order_by(Volunteer.id))
        return [Coordinator(int(chat_id), language) for chat_id, language in rows]


class HealthMonitor:
    """Probes the engine and the database in the background and alerts coordinators about outages."""

    def __init__(self, engine: EngineClient, database: AsyncEngine, desk: Desk, heartbeat: Path, *,
                 every: float, alert_after: timedelta, clock: Callable[[], datetime] = utc_clock) -> None:
        self.engine = engine
        self.database = database
        self.desk = desk
        self.heartbeat = heartbeat
        self.every = every
        self.alert_after = alert_after
        self.clock = clock
        self.outages: dict[str, Outage] = {}
        self.coordinators: list[Coordinator] = []  # as of the last probe the database answered
        self._pending: list[tuple[int, Text]] = []
        self._send: SendText | None = None
        self._job = Background("health probe")
        self._lock = asyncio.Lock()

    def start(self, send: SendText) -> None:
        """Probe every `every` seconds in the background; alerts go out through `send(chat_id, text)`."""
        self._send = send
        self._job.start(self.check, self.every)

    async def stop(self) -> None:
        """Stop probing; the heartbeat goes, so monitoring sees a stopped bot at once."""
        if await self._job.stop():
            self.heartbeat.unlink(missing_ok=True)

    def is_coordinator(self, chat_id: int) -> Coordinator | None:
        """The coordinator with this chat as last read from the database (for when it is down)."""
        return next((c for c in self.coordinators if c.chat_id == chat_id), None)

    async def check(self) -> list[Check]:
        """Probe once: note outages and recoveries, alert about them, write the heartbeat."""
        async with self._lock:
            checks = list(await asyncio.gather(probe_engine(self.engine), probe_database(self.database)))
            now = self.clock()
            if checks[1].up:
                try:
                    self.coordinators = await read_coordinators(self.database)
                except Exception as exc:
                    logger.warning("could not read the coordinators: %s", type(exc).__name__)
            for check in checks:
                self._note(check, now)
            await self._deliver(database_up=checks[1].up)
            self._beat(checks)
            return checks

    def down_for(self, component: str) -> timedelta | None:
        outage = self.outages.get(component)
        return self.clock() - outage.since if outage is not None else None

    def _note(self, check: Check, now: datetime) -> None:
        texts, component = self.desk.texts, check.component
        outage = self.outages.get(component)
        if not check.up:
            if outage is None:
                outage = self.outages[component] = Outage(now)
                logger.warning("%s is not answering (%s)", component, check.detail)
            down = now - outage.since
            if not outage.alerted and down >= self.alert_after:
                outage.alerted = True
                logger.error("%s has not answered for %.0f s; alerting %d coordinators", component,
                             down.total_seconds(), len(self.coordinators))
                self._alert(lambda language: texts.health_down(language, component, down))
        elif outage is not None:
            del self.outages[component]
            down = now - outage.since
            logger.warning("%s is back after %.0f s", component, down.total_seconds())
            if outage.alerted:
                self._alert(lambda language: texts.health_back(language, component, down))

    def _alert(self, text_in: Callable[[str], Text]) -> None:
        self._pending += [(coordinator.chat_id, text_in(coordinator.language)) for coordinator in self.coordinators]
        del self._pending[:-MAX_PENDING_ALERTS]

    async def _deliver(self, *, database_up: bool) -> None:
        """Send the alerts directly; one Telegram refuses goes to the outbox, else waits for the next probe."""
        pending, self._pending = self._pending, []
        for chat_id, message in pending:
            try:
                if self._send is None:
                    raise RuntimeError("not started")
                await self._send(chat_id, message.text)
                continue
            except Exception as exc:
                logger.warning("alert not sent directly: %s", type(exc).__name__)
            if database_up:
                try:
                    async with self.desk.sessions.begin() as session:
                        await self.desk.send(session, chat_id, message, purpose="health")
                    self.desk.wake()
                    continue
                except Exception as exc:
                    logger.warning("alert not queued either: %s", type(exc).__name__)
            self._pending.append((chat_id, message))

    def _beat(self, checks: list[Check]) -> None:
        """Tell `python -m bot health` that this bot is alive (wall-clock time: it is read by another process)."""
        state = {"at": time.time(), "pid": os.getpid(), **{check.component: check.up for check in checks}}
        partial = self.heartbeat.with_suffix(".tmp")
        try:
            partial.write_text(json.dumps(state))
            partial.replace(self.heartbeat)
        except OSError as exc:
            logger.warning("could not write the heartbeat: %s", type(exc).__name__)


def heartbeat_check(path: Path, every: float, now: float | None = None) -> Check:
    """The running bot's state from its heartbeat file: up when it probed within three intervals."""
    try:
        beat = json.loads(path.read_text())
        age = (time.time() if now is None else now) - float(beat["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return Check("bot", False, 0.0, "no heartbeat: is the bot running on Telegram?")
    if age > 3 * every + 10:
        return Check("bot", False, age, f"last heartbeat {age:.0f} s ago")
    return Check("bot", True, age, f"last heartbeat {age:.0f} s ago")


async def check_all(settings: Settings) -> list[Check]:
    """Every component, as seen from outside the bot (for monitoring)."""
    engine = EngineClient(settings.engine_url, settings.engine_token, settings.engine_timeout)
    database = create_engine(settings.database_url)
    try:
        engine_check, database_check = await asyncio.gather(probe_engine(engine), probe_database(database))
    finally:
        await engine.close()
        await database.dispose()
    bot_check = heartbeat_check(settings.state_dir / HEARTBEAT_FILE, settings.health_probe_every)
    return [bot_check, engine_check, database_check]


def print_checks(checks: list[Check], out: TextIO = sys.stdout) -> None:
    for check in checks:
        state = "up" if check.up else "DOWN"
        measure = check.detail if check.component == "bot" else f"{check.seconds * 1000:.0f} ms"
        reason = f" ({check.detail})" if check.detail and check.component != "bot" else ""
        print(f"{check.component:<9} {state:<5} {measure}{reason}", file=out)


async def run_health(settings: Settings, out: TextIO = sys.stdout) -> int:
    """`python -m bot health`: one line per component; exit status 0 when all are up, 1 otherwise."""
    checks = await check_all(settings)
    print_checks(checks, out)
    return 0 if all(check.up for check in checks) else 1
