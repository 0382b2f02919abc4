"""Logging set-up. Privacy by default: no message text, names, usernames or Telegram ids in logs.

Our own code logs only intents, languages and error types. Third-party loggers that write request
parameters (message text, the bot token inside URLs) are held at WARNING whatever LOG_LEVEL says.
"""

from __future__ import annotations

import logging
from pathlib import Path

VERBOSE_THIRD_PARTIES = ("telegram", "httpx", "httpcore", "hpack", "apscheduler", "aiosqlite", "asyncio",
                         "tornado", "sqlalchemy.engine")


def quiet_third_parties() -> None:
    """Keep libraries that log payloads or URLs with secrets at WARNING."""
    for name in VERBOSE_THIRD_PARTIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: str, file: Path | None = None) -> None:
    """Log to standard error, or to `file` (when the terminal is the chat)."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    quiet_third_parties()
