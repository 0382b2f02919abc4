"""The real bot on the fake Bot API and the real engine, with a handle on its services."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from bot.app import build_application
from bot.services import Services
from bot.settings import Settings
from tests.fake_telegram import FakeTelegram


class RunningBot:
    """The real application, started against the fake Bot API and the fake engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.application: Any = None

    async def start(self) -> None:
        self.application = build_application(self.settings)
        await self.application.initialize()
        await self.application.post_init(self.application)
        await self.application.updater.start_polling(poll_interval=0.0, timeout=1)
        await self.application.start()

    async def stop(self) -> None:
        application, self.application = self.application, None
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data["services"]
        return services


@contextlib.asynccontextmanager
async def running_bot(make_settings: Callable[..., Settings], engine_url: str, **overrides: str
                      ) -> AsyncIterator[tuple[FakeTelegram, RunningBot]]:
    """A running bot (timers quiet) on the fake Bot API and the session's engine; `overrides` are variables."""
    fake = FakeTelegram()
    await fake.start()
    bot = RunningBot(make_settings(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.base_url,
                                   ENGINE_URL=engine_url, HANDOFF_SWEEP_SECONDS="3600", **overrides))
    try:
        await bot.start()
        yield fake, bot
    finally:
        if bot.application is not None:
            await bot.stop()
        await fake.stop()


async def register(fake: FakeTelegram, bot: RunningBot, chat: int, name: str, *, role: str = "volunteer",
                   languages: tuple[str, ...] = ()) -> None:
    """Register `chat` with a fresh invite, speaking English and `languages`, under `name`, online."""
    invite = await bot.services.handoff.volunteers.create_invite(role)
    await join(fake, chat, invite.code, list(languages), name)


async def join(fake: FakeTelegram, chat: int, code: str, languages: list[str], name: str) -> None:
    """`chat` registers with invite `code`, adds `languages`, takes `name` and goes online."""
    replies = await fake.say(fake.message_update(chat, f"/volunteer {code}", language_code="en"), expect=2)
    assert "You are registered" in replies[0].text
    for language in languages:
        await fake.say(fake.callback_update(chat, f"o:vlang:{language}", language_code="en"))
    await fake.say(fake.message_update(chat, f"/name {name}", language_code="en"))
    [status] = await fake.say(fake.message_update(chat, "/online", language_code="en"))
    assert "You are online" in status.text


def reply_to(chat: int, message_id: int) -> dict[str, Any]:
    """The `reply_to_message` of a message answering `message_id` in `chat`."""
    return {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat, "type": "private"}}
