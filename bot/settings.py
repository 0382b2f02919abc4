"""Settings, read once from the environment into a frozen object that is passed down."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.db.urls import async_url
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class HandoffPolicy:
    """Timings of the handoff queue; every one is counted from timestamps in the database."""

    renotify_after: timedelta = timedelta(minutes=5)
    alert_after: timedelta = timedelta(minutes=15)
    remind_after: timedelta = timedelta(minutes=10)
    requeue_after: timedelta = timedelta(minutes=20)
    sweep_every: float = 15.0
    invite_valid: timedelta = timedelta(days=7)
    hours: tuple[time, time] | None = None  # when volunteers answer; None = always
    timezone: str = "UTC"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> HandoffPolicy:
        minutes = {key: timedelta(minutes=_float(env, f"HANDOFF_{key.upper()}_MINUTES", default))
                   for key, default in (("renotify", 5), ("alert", 15), ("remind", 10), ("requeue", 20))}
        zone = env.get("HANDOFF_TIMEZONE", "UTC")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"HANDOFF_TIMEZONE must be a time zone such as Europe/Istanbul, got {zone!r}") from None
        return cls(
            renotify_after=minutes["renotify"], alert_after=minutes["alert"],
            remind_after=minutes["remind"], requeue_after=minutes["requeue"],
            sweep_every=_float(env, "HANDOFF_SWEEP_SECONDS", 15.0),
            invite_valid=timedelta(days=_float(env, "INVITE_VALID_DAYS", 7)),
            hours=_hours(env.get("HANDOFF_HOURS", "")), timezone=zone,
        )


@dataclass(frozen=True)
class FloodPolicy:
    """How many messages a user may send (bot/limits.py); emergencies are never limited, staff never."""

    per_minute: float = 20.0  # what reaches the assistant, on average; 0 turns the limit off
    burst: float = 10.0  # this many more at once
    handoff_per_minute: float = 60.0  # what is relayed to the volunteer holding the user's case

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FloodPolicy:
        return cls(per_minute=_float(env, "FLOOD_MESSAGES_PER_MINUTE", 20.0), burst=_float(env, "FLOOD_BURST", 10.0),
                   handoff_per_minute=_float(env, "FLOOD_HANDOFF_MESSAGES_PER_MINUTE", 60.0))


@dataclass(frozen=True)
class Settings:
    """Everything the assistant can be configured with; see README.md, "Configuration"."""

    root: Path
    state_dir: Path
    model_dir: Path
    telegram_token: str | None
    telegram_api_url: str
    webhook_url: str | None
    webhook_listen: str
    webhook_port: int
    webhook_secret: str
    database_url: str
    engine_url: str
    engine_token: str
    engine_database_url: str
    engine_timeout: float
    engine_autostart: bool
    pseudonym_key: bytes
    country: str
    default_language: str
    retention_days: int
    log_level: str
    handoff: HandoffPolicy = field(default_factory=HandoffPolicy)
    flood: FloodPolicy = field(default_factory=FloodPolicy)
    # Show the invented entries of knowledge_base/services/sample.yml (marked as examples). On by default
    # in the console, off by default on Telegram, where real people must never be sent to them.
    service_samples: bool = False
    # Serve only answers a second person approved (`make approve`); the others say they are being checked.
    reviewed_only: bool = False
    # The health monitor: how often it probes the engine and the database (seconds), and after how long
    # an outage is reported to the coordinators.
    health_probe_every: float = 15.0
    health_alert_after: timedelta = timedelta(seconds=60)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `env` (default: os.environ), failing fast on bad values."""
        env = os.environ if env is None else env
        root = Path(env.get("ASSISTANT_ROOT", str(ROOT))).resolve()
        state_dir = Path(env.get("STATE_DIR", str(root / ".run"))).resolve()
        state_dir.mkdir(parents=True, exist_ok=True)
        database_url = async_url(env.get("DATABASE_URL", f"sqlite+aiosqlite:///{state_dir / 'bot.db'}"))
        default_engine_db = (
            database_url if database_url.startswith("postgresql") else f"sqlite:///{state_dir / 'engine.db'}"
        )
        return cls(
            root=root,
            state_dir=state_dir,
            model_dir=Path(env.get("MODEL_DIR", str(root / ".run" / "models"))).resolve(),
            telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_url=env.get("TELEGRAM_API_URL", "https://api.telegram.org/bot"),
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1"),
            webhook_port=_int(env, "TELEGRAM_WEBHOOK_PORT", 8443),
            webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or _secret(state_dir, "webhook.secret"),
            database_url=database_url,
            engine_url=env.get("ENGINE_URL", "http://127.0.0.1:5005").rstrip("/"),
            engine_token=env.get("ENGINE_TOKEN") or _secret(state_dir, "engine.token"),
            engine_database_url=env.get("ENGINE_DATABASE_URL", default_engine_db),
            # Two of the three seconds a user may wait for an apology: the rest is for the database and Telegram.
            engine_timeout=_float(env, "ENGINE_TIMEOUT", 2.0),
            engine_autostart=_bool(env, "ENGINE_AUTOSTART", True),
            pseudonym_key=(env.get("PSEUDONYM_KEY") or _secret(state_dir, "pseudonym.key")).encode(),
            country=env.get("COUNTRY", "TR").upper(),
            default_language=env.get("DEFAULT_LANGUAGE", "en"),
            retention_days=_int(env, "RETENTION_DAYS", 30),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            handoff=HandoffPolicy.from_env(env),
            flood=FloodPolicy.from_env(env),
            service_samples=_bool(env, "SERVICE_SAMPLES", not env.get("TELEGRAM_BOT_TOKEN")),
            reviewed_only=_bool(env, "SERVE_ONLY_REVIEWED", False),
            health_probe_every=_float(env, "HEALTH_PROBE_SECONDS", 15.0),
            health_alert_after=timedelta(seconds=_float(env, "HEALTH_ALERT_SECONDS", 60.0)),
        )


def _secret(state_dir: Path, name: str) -> str:
    """A random secret kept in the state folder, so it survives restarts without configuration."""
    path = state_dir / name
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def _hours(value: str) -> tuple[time, time] | None:
    """`09:00-18:00` -> (09:00, 18:00); empty -> None (volunteers may answer at any hour)."""
    if not value.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ConfigError(f"HANDOFF_HOURS must look like 09:00-18:00, got {value!r}") from None
    return start, end


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    try:
        return int(env.get(key, default))
    except ValueError:
        raise ConfigError(f"{key} must be a whole number, got {env[key]!r}") from None


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    try:
        return float(env.get(key, default))
    except ValueError:
        raise ConfigError(f"{key} must be a number, got {env[key]!r}") from None


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    value = env.get(key)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{key} must be true or false, got {value!r}")
