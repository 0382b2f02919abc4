"""Logging set-up and log files. Privacy by default: no message text, names, usernames or Telegram ids.

Our own code logs only intents, languages, counts, case numbers and error types. Libraries log what
they handle: at DEBUG python-telegram-bot writes every update and every request's parameters (text,
names, chat ids), SQLAlchemy and aiosqlite the parameters and rows of every query, httpx the URL with
the bot token in it. So, whatever their level, records of other packages reach the log with their
arguments replaced by placeholders (`<dict>`), and every line is rid of bot tokens. Libraries are
held at WARNING unless configured otherwise, to keep the log short.

Log files (STATE_DIR/logs/*.log: the console's bot.log, the engine's engine.log, train.log) are cut
every day and deleted after the retention period by `prune_log_files`, run by the retention job.
"""

from __future__ import annotations

import logging
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

VERBOSE_THIRD_PARTIES = ("telegram", "httpx", "httpcore", "hpack", "apscheduler", "aiosqlite", "asyncio",
                         "tornado", "sqlalchemy.engine")
OURS = ("bot", "engine", "bench", "__main__")
# Values of these types say nothing about a person: durations, flags. Small numbers are status codes
# and counts; a Telegram id never is one.
_SAFE = (bool, float, type(None))
_SMALL = 1000
# A bot token, wherever it shows: in the Bot API's URLs (/bot<token>/, /file/bot<token>/) or bare.
_TOKEN = re.compile(r"(?<=/bot)[^/\s\"'>]+|\b\d{6,12}:[A-Za-z0-9_-]{30,}")
_SEGMENT = re.compile(r"\.log\.(\d{8}T\d{6})$")
SEGMENT_FORMAT = "%Y%m%dT%H%M%S"


class PrivateRecords(logging.Filter):
    """Replace the arguments of other packages' records with placeholders of their type.

    Their message templates stay ("Calling Bot API endpoint `<str>` with parameters `<dict>`"), so
    the log still shows what happened. httpx's request lines keep the method, URL path and status.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] in OURS:
            return True
        if not isinstance(record.msg, str):
            record.msg = _placeholder(record.msg)
        if record.args and not record.name.startswith("httpx"):
            if isinstance(record.args, dict):
                record.args = {key: _scrub(value) for key, value in record.args.items()}
            else:
                record.args = tuple(_scrub(value) for value in record.args)
        return True


class PrivateFormatter(logging.Formatter):
    """Format a line, traceback included, without bot tokens."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def redact(line: str) -> str:
    """`line` without bot tokens."""
    return _TOKEN.sub("<token>", line)


def _scrub(value: object) -> object:
    if isinstance(value, _SAFE) or (type(value) is int and 0 <= value < _SMALL):
        return value
    return _placeholder(value)


def _placeholder(value: object) -> str:
    return f"<{type(value).__name__}>"


def quiet_third_parties() -> None:
    """Hold libraries at WARNING unless a level was set for them (their records are private either way)."""
    for name in VERBOSE_THIRD_PARTIES:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def configure_logging(level: str, file: Path | None = None) -> logging.Handler:
    """Log to standard error, or to `file` (when the terminal is the chat); returns the handler."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")  # appends: survives being cut (O_APPEND)
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(PrivateFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PrivateRecords())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    quiet_third_parties()
    return handler


def prune_log_files(folder: Path, now: datetime, keep: timedelta) -> tuple[int, int]:
    """Cut each log file once per `cut_every(keep)` and delete the cut parts older than allowed.

    A file is cut by copying it to `<name>.<time>` and emptying it, so the processes that write it
    (the engine's, ours) go on appending to the same file. A part holds at most one cut interval, so
    deleting it once its newest line is `keep - interval` old means no line is kept beyond `keep`
    (give or take one run of the job; the first part of a file older than this job is as old as the file).
    Returns (files cut, parts deleted).
    """
    if not folder.is_dir():
        return 0, 0
    interval = cut_every(keep)
    cut = deleted = 0
    for active in sorted(folder.glob("*.log")):
        parts = [stamp for part in folder.glob(f"{active.name}.*") if (stamp := _stamp(part)) is not None]
        if active.stat().st_size and (not parts or now - max(parts) >= interval):
            part = folder / f"{active.name}.{now.astimezone(UTC).strftime(SEGMENT_FORMAT)}"
            shutil.copy2(active, part)  # keeps the time of the newest line as the part's mtime
            with active.open("r+b") as emptied:
                emptied.truncate(0)
            cut += 1
    oldest_allowed = (now - (keep - interval)).timestamp()
    for part in folder.iterdir():
        if _stamp(part) is not None and part.stat().st_mtime < oldest_allowed:
            part.unlink(missing_ok=True)
            deleted += 1
    return cut, deleted


def cut_every(keep: timedelta) -> timedelta:
    """How often log files are cut: daily, or at half the retention period when that is shorter."""
    return min(timedelta(days=1), keep / 2)


def _stamp(path: Path) -> datetime | None:
    """When a cut part of a log file was cut; None for anything else."""
    match = _SEGMENT.search(path.name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), SEGMENT_FORMAT).replace(tzinfo=UTC)
