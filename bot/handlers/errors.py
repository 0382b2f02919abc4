"""The one error handler: log first (never message text), then give the user a way forward."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from telegram import Update

from bot.handlers.context import BotContext
from bot.handlers.sending import send_all, user_of
from bot.replies import EngineDown, Said

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure and, where there is a private chat, apologise and offer a person."""
    error = context.error
    logger.error("handler failed: %s", type(error).__name__, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None or update.effective_user is None:
        return
    if update.effective_chat.type != "private":
        return
    try:
        language = await context.services.conversation.language_of(user_of(update, context))
    except Exception:  # the database itself may be what failed
        language = context.services.settings.default_language

    async def apology() -> AsyncIterator[Said]:
        yield Said(EngineDown(), language)

    try:
        await send_all(update, context, apology())
    except Exception as exc:
        logger.error("could not send the apology either: %s", type(exc).__name__)
