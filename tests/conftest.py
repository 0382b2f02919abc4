"""Shared fixtures: settings in a temporary folder, and one real engine for the whole session."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.engine.client import EngineClient
from bot.engine.process import EngineServer, ensure_trained
from bot.services import Services, open_services
from bot.settings import ROOT, Settings

ENGINE_TOKEN = "test-engine-token"
PSEUDONYM_KEY = "test-pseudonym-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def engine_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine")


@pytest.fixture(scope="session")
def engine_env(engine_state: Path) -> dict[str, str]:
    """Environment naming the session's engine (not started until `engine_url` is used)."""
    return {
        "ENGINE_URL": f"http://127.0.0.1:{free_port()}",
        "ENGINE_TOKEN": ENGINE_TOKEN,
        "ENGINE_DATABASE_URL": f"sqlite:///{engine_state / 'engine.db'}",
        "ENGINE_AUTOSTART": "false",
        "PSEUDONYM_KEY": PSEUDONYM_KEY,
        "MODEL_DIR": str(ROOT / ".run" / "models"),
    }


@pytest.fixture
def make_settings(tmp_path: Path, engine_env: dict[str, str]) -> Callable[..., Settings]:
    """Settings with state in a temporary folder; keyword arguments override variables."""

    def make(**overrides: str) -> Settings:
        env = {**engine_env, "STATE_DIR": str(tmp_path / "state"), "LOG_LEVEL": "DEBUG", **overrides}
        return Settings.from_env(env)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def engine_url(engine_env: dict[str, str], engine_state: Path) -> AsyncIterator[str]:
    """A real engine with the real trained model, started once for the session."""
    settings = Settings.from_env({**engine_env, "STATE_DIR": str(engine_state)})
    model = ensure_trained(settings)
    client = EngineClient(settings.engine_url, settings.engine_token, 10.0)
    server = EngineServer(settings, model)
    await server.start(client)
    try:
        yield settings.engine_url
    finally:
        await server.stop()
        await client.close()


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    """Every service, against the real database and whatever engine ENGINE_URL names."""
    async with open_services(settings, start_engine=False) as built:
        yield built


@pytest.fixture
async def db_services(database_url: str, make_settings: Callable[..., Settings]) -> AsyncIterator[Services]:
    """Services (no engine) on the parametrised database: SQLite, then PostgreSQL."""
    async with open_services(make_settings(DATABASE_URL=database_url), start_engine=False) as services:
        yield services


@pytest.fixture
async def live_services(engine_url: str, services: Services) -> Services:
    """Services with the session's engine running."""
    return services


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The test PostgreSQL server (scripts/test-postgres, started by `make test`)."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set: no PostgreSQL server (run the tests with `make test`)")
    return url


@pytest.fixture
async def postgres_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import asyncpg

    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database the project supports: SQLite (default) and PostgreSQL (production)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of everything editors change and the model is trained from, to change it freely."""
    copy = tmp_path / "repo"
    for name in ("knowledge_base", "nlu", "flows", "locales"):
        shutil.copytree(ROOT / name, copy / name)
    shutil.copytree(ROOT / "tests" / "nlu_heldout", copy / "tests" / "nlu_heldout")
    (copy / "requirements").mkdir()
    for name in ("config.yml", "requirements/engine.lock"):
        shutil.copy(ROOT / name, copy / name)
    return copy
