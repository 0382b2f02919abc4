"""No message text, names, usernames, phone numbers or Telegram ids in the logs, even at DEBUG.

The real bot on the fake Bot API and the real engine, logging configured as `python -m bot` does, at
DEBUG, with the chattiest libraries (python-telegram-bot, httpx, SQLAlchemy, aiosqlite, asyncio) at
DEBUG too. A user with a distinctive name, username and phone number asks questions, is passed to a
volunteer (also named distinctively), and messages are relayed both ways. Then the bot's log, and
what the engine wrote to its own log meanwhile, are searched for every one of those values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine.process import engine_environment
from bot.logs import configure_logging
from bot.settings import Settings
from tests.fake_telegram import FakeTelegram
from tests.running_bot import RunningBot, register, running_bot

pytestmark = pytest.mark.engine

USER, VOLUNTEER, COORDINATOR = 7412358902, 6120000459, 6120000460
FIRST, LAST, USERNAME = "Zorabel", "Quintaro", "zorabel_qx"
VOLUNTEER_NAME, VOLUNTEER_USERNAME = "Lindqvara", "lindqvara_vx"
PHONE = "+90 532 981 44 17"
QUESTION = f"My name is {FIRST} {LAST}, phone {PHONE}, Telegram @{USERNAME}. How do I apply for asylum?"
RELAYED = "Vestrunika needs help at the border crossing"
ANSWER = "Tharnwick office opens at nine, go there"
LIBRARIES = ("telegram", "httpx", "httpcore", "sqlalchemy", "sqlalchemy.engine", "aiosqlite", "asyncio", "aiohttp")
SECRETS = {
    "the user's Telegram id": str(USER), "the volunteer's Telegram id": str(VOLUNTEER),
    "the coordinator's Telegram id": str(COORDINATOR),
    "the user's first name": FIRST, "the user's last name": LAST, "the user's username": USERNAME,
    "the volunteer's name": VOLUNTEER_NAME, "the volunteer's username": VOLUNTEER_USERNAME,
    "the phone number": "981 44 17", "the phone number's digits": "9814417",
    "the relayed message": "Vestrunika", "the volunteer's answer": "Tharnwick", "the bot token": "TEST-token",
}


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The bot's logging at DEBUG into a file, libraries at DEBUG too; restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in LIBRARIES}
    file = tmp_path / "bot.log"
    handler = configure_logging("DEBUG", file)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield file
    handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def known_as(update: dict[str, Any], first: str, username: str, last: str | None = None) -> dict[str, Any]:
    """The update, sent by an account with this name and username."""
    sender = (update.get("message") or update["callback_query"])["from"]
    sender.update(first_name=first, username=username, **({"last_name": last} if last else {}))
    return update


async def test_a_whole_conversation_at_debug_leaves_no_personal_data_in_the_logs(
        log_file: Path, engine_url: str, engine_state: Path, make_settings: Callable[..., Settings]) -> None:
    engine_log = engine_state / "logs" / "engine.log"
    engine_logged_before = len(_read(engine_log))
    async with running_bot(make_settings, engine_url) as (fake, bot):
        await conversation(fake, bot)
    logged = _read(log_file)
    engine_logged = _read(engine_log)[engine_logged_before:]

    assert len(logged.splitlines()) > 200  # DEBUG really was on, for the libraries too
    assert "Calling Bot API endpoint" in logged and "HTTP Request: POST" in logged and "SELECT" in logged
    leaks = {what: _lines_with(value, logged + engine_logged) for what, value in SECRETS.items()}
    assert {what: lines for what, lines in leaks.items() if lines} == {}


async def conversation(fake: FakeTelegram, bot: RunningBot) -> None:
    """Questions, a handoff with messages both ways, the rating."""
    def user(text: str | None, **content: Any) -> dict[str, Any]:
        return known_as(fake.message_update(USER, text, language_code="en", **content), FIRST, USERNAME, LAST)

    def volunteer(text: str) -> dict[str, Any]:
        return known_as(fake.message_update(VOLUNTEER, text, language_code="en"), VOLUNTEER_NAME, VOLUNTEER_USERNAME)

    await register(fake, bot, COORDINATOR, "Nour", role="coordinator")
    await register(fake, bot, VOLUNTEER, VOLUNTEER_NAME)
    await fake.say(user("/start"))
    await fake.say(user(QUESTION))
    await fake.say(user(f"I am {FIRST}, where is the nearest office? My number is {PHONE}"))
    await fake.push(user("/human"))
    await fake.wait_until(lambda: any("o:take:" in str(m.buttons) for m in fake.messages_to(VOLUNTEER)))
    take = next(data for m in fake.messages_to(VOLUNTEER) for _, data in m.buttons if data.startswith("o:take:"))
    await fake.push(known_as(fake.callback_update(VOLUNTEER, take, language_code="en"), VOLUNTEER_NAME,
                             VOLUNTEER_USERNAME))
    await fake.wait_until(lambda: any(VOLUNTEER_NAME in m.text for m in fake.messages_to(USER)))
    await fake.push(user(RELAYED))
    photo = [{"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}]
    await fake.push(user(None, photo=photo, caption=f"{RELAYED}, photo"))
    await fake.wait_until(lambda: any(s.method == "copyMessage" and s.chat_id == VOLUNTEER for s in fake.sent))
    await fake.push(volunteer(ANSWER))
    await fake.wait_until(lambda: any(m.text.endswith(ANSWER) for m in fake.messages_to(USER)))
    await fake.push(volunteer("/close"))
    await fake.wait_until(lambda: any("o:rate:" in str(m.buttons) for m in fake.messages_to(USER)))
    closing = next(m for m in fake.messages_to(USER) if "o:rate:" in str(m.buttons))
    stars = next(data for _, data in closing.buttons if data.endswith(":4"))
    await fake.say(known_as(fake.callback_update(USER, stars, language_code="en"), FIRST, USERNAME, LAST))


def _read(path: Path) -> str:
    return path.read_bytes().decode(errors="replace") if path.exists() else ""


def _lines_with(value: str, text: str) -> list[str]:
    return [line[:300] for line in text.splitlines() if re.search(re.escape(value), line, re.I)][:3]


def test_the_engine_never_logs_below_info(make_settings: Callable[..., Settings]) -> None:
    # At DEBUG Rasa logs the words of every message it parses; it reads LOG_LEVEL from its environment.
    environment = engine_environment(make_settings(LOG_LEVEL="DEBUG"))
    assert environment["LOG_LEVEL"] == "INFO" and environment["LOG_LEVEL_LIBRARIES"] == "ERROR"
    assert engine_environment(make_settings(LOG_LEVEL="WARNING"))["LOG_LEVEL"] == "WARNING"
