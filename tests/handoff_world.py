"""A handoff in progress on the fake Bot API, for the fault tests: a volunteer holds a user's case."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from tests.fake_telegram import FakeTelegram
from tests.running_bot import RunningBot, register

VOLUNTEER_NAME = "Lina"


async def hold_case(fake: FakeTelegram, bot: RunningBot, volunteer: int, user: int) -> str:
    """Register `volunteer`, let `user` ask for a person and the volunteer take the case; its label."""
    await register(fake, bot, volunteer, VOLUNTEER_NAME)
    await take_case(fake, volunteer, user)
    return case_label(fake, volunteer)


def case_label(fake: FakeTelegram, volunteer: int) -> str:
    """The label of the case `volunteer` took last."""
    card = [m.text for m in fake.messages_to(volunteer) if "You hold case" in m.text][-1]
    return re.search(r"case (\w{4})", card).group(1)  # type: ignore[union-attr]


async def take_case(fake: FakeTelegram, volunteer: int, user: int) -> None:
    """`user` asks for a person (in English) and the registered, online `volunteer` takes the case."""
    await fake.push(fake.message_update(user, "/human", language_code="en"))
    await fake.wait_until(lambda: any("o:take:" in str(m.buttons) for m in fake.messages_to(volunteer)))
    take = next(data for m in fake.messages_to(volunteer) for _, data in m.buttons if data.startswith("o:take:"))
    await fake.push(fake.callback_update(volunteer, take, language_code="en"))
    await fake.wait_until(lambda: any("You hold case" in m.text for m in fake.messages_to(volunteer)))
    await fake.wait_until(lambda: any(VOLUNTEER_NAME in m.text for m in fake.messages_to(user)))


def from_volunteer(fake: FakeTelegram, user: int) -> list[str]:
    """What the volunteer wrote, as `user` received it (without the volunteer's name)."""
    prefix = f"{VOLUNTEER_NAME} (volunteer):\n"
    return [m.text.removeprefix(prefix) for m in fake.messages_to(user) if m.text.startswith(prefix)]


def from_user(fake: FakeTelegram, volunteer: int, label: str) -> list[str]:
    """What the user wrote, as the volunteer received it (without the case label)."""
    return [m.text.removeprefix(f"[{label}] ") for m in fake.messages_to(volunteer) if m.text.startswith(f"[{label}]")]


@contextlib.contextmanager
def write_locked(database: Path) -> Iterator[None]:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) until the block ends."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        connection.execute("COMMIT")
        connection.close()
