"""The Telegram application: builds it, registers the handlers, runs it (polling or webhook).

Services are created in post_init and closed in post_shutdown, never at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.handlers import buttons, commands, errors, gate, handoff, messages
from bot.handlers.context import BotContext
from bot.handlers.volunteers import VOLUNTEER_COMMANDS
from bot.handoff.senders import TelegramSender
from bot.intake import ConfirmingBot, handled
from bot.logs import quiet_third_parties
from bot.services import open_services
from bot.settings import Settings

logger = logging.getLogger(__name__)

COMMANDS = {
    "start": commands.start,
    "menu": commands.menu,
    "help": commands.help_command,
    "language": commands.language,
    "privacy": commands.privacy,
    "forget": commands.forget,
    "human": commands.human,
    "cancel": handoff.cancel,
    "report": handoff.report,
    **VOLUNTEER_COMMANDS,
}


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Many chats at once, but one update at a time per chat, so a user's messages keep their order."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            handled(update)
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._pending[chat.id] = self._pending.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
            handled(update)
        finally:
            self._pending[chat.id] -= 1
            if not self._pending[chat.id]:  # forget idle chats
                del self._pending[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def build_application(settings: Settings) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the application with every handler registered."""
    assert settings.telegram_token, "TELEGRAM_BOT_TOKEN is required for Telegram mode"
    quiet_third_parties()
    exit_stack = contextlib.AsyncExitStack()

    async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        services = await exit_stack.enter_async_context(open_services(settings))
        application.bot_data["services"] = services
        services.handoff.start(TelegramSender(application.bot))
        services.health.start(application.bot.send_message)  # alerts bypass the outbox: the database may be down
        services.retention.start()
        await _publish_commands(application)

    async def post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await exit_stack.aclose()

    bot = ConfirmingBot(settings.telegram_token, settings.telegram_api_url,
                        settings.telegram_api_url.replace("/bot", "/file/bot"))
    application = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    bot.confirm_after(application.update_queue)  # updates are confirmed to Telegram once handled
    register_handlers(application)
    return application


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(TypeHandler(Update, gate.gate), group=-1)  # bans and flood limits first
    application.add_handler(MessageHandler(~private, messages.group), group=0)
    not_written_to_us = (filters.StatusUpdate.ALL | filters.SUCCESSFUL_PAYMENT | filters.UpdateType.BUSINESS_MESSAGES
                         | filters.UpdateType.GUEST_MESSAGE)
    application.add_handler(MessageHandler(not_written_to_us, messages.not_written_to_the_assistant))
    for name, callback in COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=private))
    application.add_handler(MessageHandler(private & filters.COMMAND, commands.unknown_command))
    application.add_handler(MessageHandler(private & filters.TEXT, messages.text))
    application.add_handler(MessageHandler(private & (filters.LOCATION | filters.VENUE), messages.location))
    media = (filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
             | filters.Document.ALL | filters.ANIMATION)
    application.add_handler(MessageHandler(private & media, messages.media))
    application.add_handler(MessageHandler(private, messages.other))
    application.add_handler(CallbackQueryHandler(buttons.button))
    application.add_error_handler(errors.on_error)


async def _publish_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Show the command list in Telegram's menu, in every supported language."""
    services = application.bot_data["services"]
    for code in services.languages.codes:
        tr = services.catalogs.get(code)
        described = [
            BotCommand("menu", tr.p_("command description", "Main menu")),
            BotCommand("language", tr.p_("command description", "Change the language")),
            BotCommand("human", tr.p_("command description", "Talk to a person")),
            BotCommand("privacy", tr.p_("command description", "What is stored about you")),
            BotCommand("forget", tr.p_("command description", "Delete your data")),
            BotCommand("help", tr.p_("command description", "Help")),
        ]
        try:
            await application.bot.set_my_commands(described, language_code=None if code == "en" else code)
        except Exception as exc:  # cosmetic: never keep the bot from starting
            logger.warning("could not publish the command list: %s", type(exc).__name__)
            return


def run_telegram(settings: Settings) -> None:
    """Serve the bot: webhook when TELEGRAM_WEBHOOK_URL is set, long polling otherwise."""
    application = build_application(settings)
    if settings.webhook_url:
        path = settings.webhook_secret[:24]
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=path,
            webhook_url=f"{settings.webhook_url.rstrip('/')}/{path}",
            secret_token=settings.webhook_secret[:64],
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
