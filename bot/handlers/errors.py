"""The one error handler: log first (never message text), then give the user a way forward.

When the database is away (locked too long, restarting), the message was not taken: the user is
asked to send it again, in their language when it can still be read, and is never left in silence.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from telegram import Update

from bot.db.retry import is_database_fault
from bot.handlers.context import BotContext
from bot.handlers.sending import send, send_all, user_of
from bot.replies import EngineDown, Said

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure and, where there is a private chat, apologise and offer a person."""
    error = context.error
    database_fault = is_database_fault(error)
    if database_fault:  # expected while the database restarts: no traceback
        logger.warning("database unavailable while handling an update: %s", type(error).__name__)
    else:
        logger.error("handler failed: %s", type(error).__name__, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None or update.effective_user is None:
        return
    if update.effective_chat.type != "private":
        return
    try:
        language = await context.services.conversation.language_of(user_of(update, context))
    except Exception:  # the database itself may be what failed: Telegram's hint, if the bot speaks it
        hint = (update.effective_user.language_code or "")[:2]
        language = hint if hint in context.services.languages.codes else context.services.settings.default_language

    if database_fault:
        tr = context.services.catalogs.get(language)
        try:
            await send(context, update.effective_chat.id, tr._(
                "Sorry, your message did not get through because of a technical problem. Please send it again "
                "in a minute."))
        except Exception as exc:
            logger.error("could not ask the user to send the message again: %s", type(exc).__name__)
        return

    async def apology() -> AsyncIterator[Said]:
        yield Said(EngineDown(), language)

    try:
        await send_all(update, context, apology())
    except Exception as exc:
        logger.error("could not send the apology either: %s", type(exc).__name__)
