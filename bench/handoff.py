"""`python -m bench.handoff [--smoke] [--postgres URL]`: how fast the handoff reaches volunteers, and claims per second.

- Escalation to notification: from `request()` (a user asks for a person) to the moment the
  outbox dispatcher, running in the background as in the bot, hands the volunteers' offers to
  the sender. The sender answers at once, so this is the bot's own share; Telegram adds its
  network time on top.
- Claims per second: volunteers pressing Take on waiting cases all at once, through two
  handoff instances with separate connection pools (two bot processes), on each database.

Writes bench/HANDOFF.md (or .run/bench-smoke/HANDOFF.md with --smoke).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.db.session import create_engine, session_factory
from bot.handoff.outbox import Delivery
from bot.handoff.queue import Requester
from bot.handoff.service import Handoff
from bot.services import Services, open_services
from bot.settings import ROOT, HandoffPolicy, Settings


@dataclass
class Result:
    database: str
    notify_p50_ms: float
    notify_p95_ms: float
    notifications: int
    claims: int
    claim_attempts: int
    claims_per_second: float
    attempts_per_second: float
    double_holds: int


class TimingSender:
    """Records when volunteer 1 first receives a new offer after the event was cleared."""

    def __init__(self) -> None:
        self.offered_at = 0.0
        self.first_volunteer = asyncio.Event()
        self._ids = 0

    async def deliver(self, delivery: Delivery) -> int:
        new_offer = "o:take:" in str(delivery.buttons) and delivery.edit_message_id is None
        if delivery.chat_id == 1 and new_offer and not self.first_volunteer.is_set():
            self.offered_at = time.perf_counter()
            self.first_volunteer.set()
        self._ids += 1
        return self._ids


def _handoff(services: Services, url: str) -> tuple[Handoff, object]:
    engine = create_engine(url)
    handoff = Handoff.build(session_factory(engine), services.handoff.desk.texts, HandoffPolicy(),
                            retention=timedelta(days=30), reset_engine=services.tracker_store.delete_conversation,
                            area_of={t.id: t.area for t in services.knowledge.topics.values()})
    return handoff, engine


async def _volunteers(handoff: Handoff, count: int, max_chats: int) -> None:
    for number in range(count):
        invite = await handoff.volunteers.create_invite()
        chat = 1 + number
        await handoff.volunteers.register(chat, invite.code, f"V{number}", "ar")
        await handoff.volunteers.change(chat, "vmax", str(max_chats))
        await handoff.volunteers.set_online(chat, True)


async def measure(database: str, url: str, settings: Settings, escalations: int, cases: int) -> Result:
    async with open_services(settings, start_engine=False) as services:
        first, engine_a = _handoff(services, url)
        second, engine_b = _handoff(services, url)
        try:
            volunteers = 10
            await _volunteers(first, volunteers, 10)
            sender = TimingSender()
            first.start(sender)
            latencies = []
            for number in range(escalations):
                sender.first_volunteer.clear()
                started = time.perf_counter()
                case = await first.queue.request(
                    Requester(uuid.uuid4().hex, uuid.uuid4().hex, 10_000 + number, "ar"), "asked")
                await sender.first_volunteer.wait()
                latencies.append((sender.offered_at - started) * 1000)
                await first.queue.cancel(case.user_key, "ar", case.user_chat_id)
            await first.stop()

            waiting = [await (first if n % 2 else second).queue.request(
                Requester(uuid.uuid4().hex, uuid.uuid4().hex, 50_000 + n, "ar"), "asked") for n in range(cases)]
            presses = [(v, case.id) for v in range(1, volunteers + 1) for case in waiting]
            random.Random(1).shuffle(presses)
            started = time.perf_counter()
            outcomes = await asyncio.gather(*((first if i % 2 else second).queue.take(v, case_id)
                                              for i, (v, case_id) in enumerate(presses)))
            elapsed = time.perf_counter() - started
            wins: dict[int, int] = {}
            for (_, case_id), (outcome, _) in zip(presses, outcomes, strict=True):
                if outcome == "taken":
                    wins[case_id] = wins.get(case_id, 0) + 1
            return Result(
                database=database,
                notify_p50_ms=statistics.median(latencies),
                notify_p95_ms=statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else max(latencies),
                notifications=len(latencies), claims=sum(wins.values()), claim_attempts=len(presses),
                claims_per_second=sum(wins.values()) / elapsed, attempts_per_second=len(presses) / elapsed,
                double_holds=sum(1 for count in wins.values() if count > 1),
            )
        finally:
            await first.stop()
            for engine in (engine_a, engine_b):
                await engine.dispose()  # type: ignore[attr-defined]


async def _fresh_database(admin_url: str) -> str:
    import asyncpg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def write(results: list[Result], out: Path, escalations: int, cases: int) -> None:
    lines = [
        "# Handoff benchmark", "",
        f"`python -m bench.handoff` on {os.cpu_count()} cores. In process, real databases; the sender answers at",
        "once, so the times are the bot's own share (Telegram adds its network time).", "",
        f"- Escalation to notification: {escalations} requests one after another, each timed from `request()` to",
        "  the first offer handed to a volunteer by the background outbox dispatcher.",
        f"- Claims: {cases} waiting cases, 10 volunteers (10 chats each) pressing Take on every case at once,",
        "  through two handoff instances with separate connection pools (two bot processes).", "",
        "| database | escalation → notification p50 | p95 | claims/s (won) | Take presses/s | double holds |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r.database} | {r.notify_p50_ms:.1f} ms | {r.notify_p95_ms:.1f} ms | "
                     f"{r.claims_per_second:.0f} ({r.claims} of {cases}) | {r.attempts_per_second:.0f} | "
                     f"{r.double_holds} |")
    (out / "HANDOFF.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


async def main(smoke: bool, postgres: str | None, out: Path) -> int:
    escalations, cases = (10, 10) if smoke else (30, 30)
    results = []
    with tempfile.TemporaryDirectory() as state:
        env = {"STATE_DIR": state, "ENGINE_AUTOSTART": "false", "PSEUDONYM_KEY": "bench"}
        sqlite = f"sqlite+aiosqlite:///{Path(state) / 'handoff.db'}"
        targets = [("SQLite", sqlite)] + ([("PostgreSQL", postgres)] if postgres else [])
        for name, url in targets:
            if name == "PostgreSQL":
                url = await _fresh_database(url)
            settings = Settings.from_env({**os.environ, **env, "DATABASE_URL": url})
            result = await measure(name, url, settings, escalations, cases)
            print(f"[handoff] {name}: notification p50 {result.notify_p50_ms:.1f} ms p95 {result.notify_p95_ms:.1f} ms;"
                  f" {result.claims_per_second:.0f} claims/s, {result.attempts_per_second:.0f} presses/s,"
                  f" double holds {result.double_holds}", file=sys.stderr)
            results.append(result)
    write(results, out, escalations, cases)
    return 0 if all(r.double_holds == 0 and r.claims == cases for r in results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.handoff", description=__doc__)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    args = parser.parse_args()
    destination = ROOT / ".run" / "bench-smoke" if args.smoke else ROOT / "bench"
    destination.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main(args.smoke, args.postgres or None, destination)))
