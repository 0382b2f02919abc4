"""`python -m bench [--smoke]`: speed, memory, language identification and understanding in one run.

The full run rewrites bench/REPORT.md and its pictures; --smoke runs every part briefly (for
`make test`, so the harness cannot rot) and writes to .run/bench-smoke/.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench import engine_profile, lid, load, profile, understanding
from bench.report import Report, write_report
from bench.workload import workload
from bot.engine.client import EngineClient
from bot.engine.process import EngineServer, ensure_trained
from bot.language.registry import LanguageRegistry
from bot.services import open_services
from bot.settings import ROOT, Settings
from tests.conftest import free_port

FULL_RATES = (10.0, 30.0, 60.0, 100.0)
EXTRA_RATES = (150.0, 200.0, 300.0)  # tried while p95 stays under 100 ms, to find the highest sustained
LID_DATA = ROOT.parent / "shared" / "data" / "lid"


def progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


async def main(smoke: bool, out: Path) -> int:
    state = Path(tempfile.mkdtemp(prefix="bench-"))
    env = {"STATE_DIR": str(state), "ENGINE_URL": f"http://127.0.0.1:{free_port()}", "ENGINE_AUTOSTART": "false",
           "ENGINE_DATABASE_URL": f"sqlite:///{state / 'engine.db'}", "ENGINE_TOKEN": "bench-token",
           "PSEUDONYM_KEY": "bench", "MODEL_DIR": str(ROOT / ".run" / "models")}
    settings = Settings.from_env({**os.environ, **env})
    report = Report(smoke=smoke, date=dt.datetime.now(dt.UTC), command=" ".join(["python -m bench", *sys.argv[1:]]),
                    machine=machine())

    if LID_DATA.exists():
        progress("[lid] language identification on ../shared/data/lid")
        registry = LanguageRegistry.load(ROOT / "knowledge_base" / "languages.yml")
        report.lid = lid.run(LID_DATA, registry, 100 if smoke else None, progress)
    else:
        progress(f"[lid] skipped: {LID_DATA} not found")

    if not smoke:
        progress("[cost] training from scratch (to measure its time)")
        with tempfile.TemporaryDirectory() as models:
            trained = Settings.from_env({**os.environ, **env, "MODEL_DIR": models})
            started = time.monotonic()
            ensure_trained(trained, force=True)
            report.training_seconds = time.monotonic() - started
    model = ensure_trained(settings)
    report.model_mb = model.stat().st_size / 1e6

    client = EngineClient(settings.engine_url, settings.engine_token, 30.0)
    server = EngineServer(settings, model)
    started = time.monotonic()
    await server.start(client)
    report.cold_start_seconds = time.monotonic() - started
    progress(f"[cost] engine cold start {report.cold_start_seconds:.1f} s")
    bot = load.BotUnderLoad(env, ROOT)
    try:
        report.understanding = await understanding.run(ROOT, client, 2 if smoke else None, progress)
        async with open_services(settings, start_engine=False) as services:
            report.stages = await profile.stages(services, 2 if smoke else 20)
        progress("[profile] " + ", ".join(f"{k} {v:.1f} ms" for k, v in report.stages.items()))

        actions = workload(ROOT)
        assert server.pid is not None
        report.engine_profile, report.engine_busy = await engine_profile.profile(
            client, server.pid, actions, 20.0, 4.0 if smoke else 20.0)
        shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in report.engine_profile.items())
        busy = 100 * report.engine_busy
        progress(f"[profile] engine handling messages {busy:.0f}% of the time at 20 msg/s: {shares}")
        await bot.start()
        await bot.run(actions, 10.0, 1.0 if smoke else 3.0)  # warm-up
        seconds = 3.0 if smoke else 20.0
        for rate in (10.0,) if smoke else FULL_RATES + EXTRA_RATES:
            if rate in EXTRA_RATES and report.steps and report.steps[-2].p95 >= 100:
                break
            for target in ("bot", "engine"):
                await bot.settle()
                if target == "bot":
                    measured = await bot.run(actions, rate, seconds)
                else:
                    measured = await load.engine_alone(settings.engine_url, actions, rate, seconds)
                report.steps.append(measured)
                progress(f"[load] {measured.target:6} {rate:5.0f} msg/s: p50 {measured.p50:6.1f} ms, "
                         f"p95 {measured.p95:6.1f} ms, p99 {measured.p99:6.1f} ms, lost {measured.lost}")
        assert bot.process is not None and server.pid is not None
        report.bot_rss_mb = load.rss_mb(bot.process.pid)
        report.engine_rss_mb = load.rss_mb(server.pid)
        progress(f"[cost] memory after load: bot {report.bot_rss_mb:.0f} MB, engine {report.engine_rss_mb:.0f} MB")
    finally:
        await bot.stop()
        await server.stop()
        await client.close()

    write_report(report, out, _topics())
    progress(f"report written to {out / 'REPORT.md'}")
    answered = sum(s.answered for s in report.steps if s.target == "bot")
    return 0 if answered and all(u.total for u in report.understanding) else 1


def _topics() -> list[str]:
    import yaml

    return list(yaml.safe_load((ROOT / "knowledge_base" / "topics.yml").read_text(encoding="utf-8")))


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()} (bot)"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="every part briefly (under two minutes)")
    parser.add_argument("--out", type=Path, default=None, help="where the report goes")
    args = parser.parse_args()
    destination = args.out or (ROOT / ".run" / "bench-smoke" if args.smoke else ROOT / "bench")
    destination.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main(args.smoke, destination)))
