"""The engine's lifecycle: train when the sources changed, start `rasa run` on loopback, stop it.

Rasa runs from its own virtual environment (.venv-rasa, Python 3.10); this module only spawns
its command-line tool, so nothing of Rasa is imported into the bot's process. An engine the bot
started itself is supervised: if it dies, it is started again (waiting longer after each failed
start), while users get the bot's apology and emergency answers in the meantime.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from sqlalchemy.engine import make_url

from bot.engine.client import EngineClient
from bot.engine.training import train_with_progress
from bot.errors import ConfigError, EngineUnavailable
from bot.settings import Settings

logger = logging.getLogger(__name__)

# What the trained model is made of: a change to any of these retrains it.
MODEL_SOURCES = ("config.yml", "flows", "nlu", "requirements/engine.lock")
DOMAIN_PATH = "flows/domain"
DATA_PATHS = ("nlu", "flows/rules")
READY_TIMEOUT = 180.0
# Seconds to wait before each attempt to start a dead engine again; the last one repeats.
RESTART_DELAYS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0)
STABLE_AFTER = 120.0  # an engine that ran this long before dying is started again without delay growth


def rasa_executable(settings: Settings) -> Path:
    path = settings.root / ".venv-rasa" / "bin" / "rasa"
    if not path.exists():
        raise ConfigError(f"the engine environment is missing ({path}); run `make install`")
    return path


def engine_environment(settings: Settings) -> dict[str, str]:
    """Environment of engine processes: no telemetry, no GPU probing, our components importable.

    Never below INFO: at DEBUG Rasa logs the words of every message it parses (and its libraries,
    SQLAlchemy among them, the parameters of every query).
    """
    env = dict(os.environ)
    env.update(
        LOG_LEVEL="INFO" if settings.log_level in {"DEBUG", "NOTSET", "INFO"} else settings.log_level,
        LOG_LEVEL_LIBRARIES="ERROR",
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="3",
        CUDA_VISIBLE_DEVICES="",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
        PYTHONPATH=str(settings.root),
        HF_HUB_OFFLINE="1",
        RASA_CACHE_DIRECTORY=str(settings.state_dir / "rasa-cache"),
    )
    return env


def sources_hash(root: Path) -> str:
    """A hash of every file the model is trained from (names and contents)."""
    digest = hashlib.sha256()
    for name in MODEL_SOURCES:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.exists() else []
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    return settings.model_dir / f"{sources_hash(settings.root)}.tar.gz"


def ensure_trained(settings: Settings, *, force: bool = False) -> Path:
    """Train the model unless one from the current sources exists; returns its path."""
    target = model_path(settings)
    if target.exists() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log_path = settings.state_dir / "logs" / "train.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(rasa_executable(settings)), "train",
        "--config", "config.yml",
        "--domain", DOMAIN_PATH,
        "--data", *DATA_PATHS,
        "--out", str(target.parent),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]
    train_with_progress(settings, command, engine_environment(settings), log_path, target)
    for old in target.parent.glob("*.tar.gz"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def write_engine_config(settings: Settings) -> tuple[Path, Path]:
    """Write the engine's endpoints (SQL tracker store) and credentials (REST channel) files."""
    folder = settings.state_dir / "engine"
    folder.mkdir(parents=True, exist_ok=True)
    endpoints = folder / "endpoints.yml"
    credentials = folder / "credentials.yml"
    prepare_sqlite(settings.engine_database_url)
    endpoints.write_text(yaml.safe_dump({"tracker_store": tracker_store_config(settings.engine_database_url)}))
    credentials.touch(mode=0o600)
    credentials.write_text(yaml.safe_dump({
        "rest": None,  # Rasa's standard channel (the benchmarks' reference)
        "engine.channel.AssistantInput": {"token": settings.engine_token},  # what the bot uses
    }))
    endpoints.chmod(0o600)
    return endpoints, credentials


def prepare_sqlite(url: str) -> None:
    """Put the engine's SQLite file in WAL mode (persistent) before Rasa opens it.

    Rasa opens SQLite in rollback-journal mode, which syncs the journal and the database at every
    commit, one commit per message; WAL appends instead, and readers never wait for the writer.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(parsed.database)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")


def tracker_store_config(url: str) -> dict[str, object]:
    """Rasa's SQLTrackerStore settings for a database URL (SQLite file or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": parsed.database}
    if parsed.get_backend_name() == "postgresql":
        return {
            "type": "SQL",
            "dialect": "postgresql",
            "url": parsed.host or "localhost",
            "port": parsed.port or 5432,
            "db": parsed.database,
            "username": parsed.username,
            "password": parsed.password,
        }
    raise ConfigError(f"ENGINE_DATABASE_URL must be SQLite or PostgreSQL, got {parsed.get_backend_name()}")


class EngineServer:
    """A `rasa run` child process bound to loopback."""

    def __init__(self, settings: Settings, model: Path) -> None:
        self.settings = settings
        self.model = model
        self.process: asyncio.subprocess.Process | None = None
        self.log_path = settings.state_dir / "logs" / "engine.log"
        self.restarts = 0
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self, client: EngineClient) -> None:
        """Start the server and wait until its model is loaded."""
        endpoints, credentials = write_engine_config(self.settings)
        url = urlsplit(self.settings.engine_url)
        if url.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise ConfigError("the engine is started on loopback only; ENGINE_URL must name 127.0.0.1")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            str(rasa_executable(self.settings)), "run",
            "--enable-api", "--auth-token", self.settings.engine_token,
            "--interface", "127.0.0.1", "--port", str(url.port or 5005),
            "--model", str(self.model),
            "--endpoints", str(endpoints), "--credentials", str(credentials),
        ]
        with self.log_path.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                *command, cwd=self.settings.root, env=engine_environment(self.settings),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise EngineUnavailable(f"the engine exited with {self.process.returncode}:\n{tail}")
            if await client.ready():
                return
            await asyncio.sleep(0.5)
        await self._terminate()
        raise EngineUnavailable(f"the engine did not become ready in {READY_TIMEOUT:.0f} s; see {self.log_path}")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def supervise(self, client: EngineClient, on_restart: Callable[[int], object] | None = None,
                  delays: Sequence[float] = RESTART_DELAYS) -> None:
        """Start the server again whenever it exits on its own (until `stop`), calling `on_restart(pid)`."""
        self._supervisor = asyncio.create_task(self._keep_running(client, on_restart, delays),
                                               name="engine-supervisor")

    async def _keep_running(self, client: EngineClient, on_restart: Callable[[int], object] | None,
                            delays: Sequence[float]) -> None:
        attempts = itertools.count()
        while (process := self.process) is not None:
            started = time.monotonic()
            code = await process.wait()
            if self.process is not process:  # stopped on purpose
                return
            if time.monotonic() - started >= STABLE_AFTER:  # it ran a while: short delays again
                attempts = itertools.count()
            logger.error("the engine exited with code %s; starting it again", code)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # what is left of its process group holds the port
            while True:
                attempt = next(attempts)
                await asyncio.sleep(delays[min(attempt, len(delays) - 1)])
                try:
                    await self.start(client)
                except (EngineUnavailable, OSError) as exc:
                    logger.error("the engine did not start again: %s", (str(exc).splitlines() or [""])[0])
                    continue
                self.restarts += 1
                logger.warning("the engine is running again (restart %d)", self.restarts)
                if on_restart is not None and self.pid is not None:
                    on_restart(self.pid)
                break

    async def stop(self) -> None:
        """Stop supervising, then stop the server (SIGTERM, then SIGKILL after ten seconds)."""
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        await self._terminate()

    async def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


def _pid_file(settings: Settings) -> Path:
    return settings.state_dir / "engine.pid"


def _stop_stale_engine(settings: Settings) -> bool:
    """Stop an engine an earlier run of ours left behind (killed before it could stop it)."""
    path = _pid_file(settings)
    try:
        pid = int(path.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return False
    if b"rasa" not in cmdline or b"run" not in cmdline:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    path.unlink(missing_ok=True)
    return True


@contextlib.asynccontextmanager
async def running_engine(settings: Settings, client: EngineClient, *,
                         required: bool = True) -> AsyncIterator[EngineServer | None]:
    """Use the engine at ENGINE_URL if it answers; otherwise train if needed and start one (supervised).

    An engine that answers with an out-of-date model is replaced when this project started it.
    With ENGINE_AUTOSTART off and no engine answering, a caller that can serve without the engine
    (`required=False`: the bot apologises and still answers emergencies) goes on without it.
    """
    loaded = await client.model_file()
    if loaded is not None:
        expected = model_path(settings).name
        if loaded == expected or not settings.engine_autostart:
            yield None
            return
        if not await asyncio.to_thread(_stop_stale_engine, settings):
            logger.warning("the engine at %s runs model %s, not the current %s; using it anyway",
                           settings.engine_url, loaded, expected)
            yield None
            return
    if not settings.engine_autostart:
        if required:
            raise EngineUnavailable(f"no engine answers at {settings.engine_url} and ENGINE_AUTOSTART is off")
        logger.error("no engine answers at %s and ENGINE_AUTOSTART is off; starting without it",
                     settings.engine_url)
        yield None
        return
    model = await asyncio.to_thread(ensure_trained, settings)
    server = EngineServer(settings, model)
    print("Starting the engine ...", file=sys.stderr, flush=True)
    await server.start(client)
    _pid_file(settings).write_text(str(server.pid))
    server.supervise(client, on_restart=lambda pid: _pid_file(settings).write_text(str(pid)))
    try:
        yield server
    finally:
        await server.stop()
        _pid_file(settings).unlink(missing_ok=True)
