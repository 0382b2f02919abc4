"""Messages: text (new or edited) goes through the conversation; everything else is explained."""

from __future__ import annotations

import logging

from telegram import Update

from bot.handlers.context import BotContext
from bot.handlers.handoff import relayed
from bot.handlers.sending import send_all, user_of

logger = logging.getLogger(__name__)


async def text(update: Update, context: BotContext) -> None:
    """Answer a text message; an edited message is answered as the corrected question."""
    message = update.effective_message
    if message is None or message.text is None or await relayed(update, context):
        return
    await send_all(update, context, context.services.conversation.on_text(user_of(update, context), message.text))


async def media(update: Update, context: BotContext) -> None:
    """Photos, voice notes, videos, files: relayed in a handoff; otherwise explained, with a person offered."""
    if await relayed(update, context):
        return
    await send_all(update, context, context.services.conversation.notice(user_of(update, context), "media"))


async def location(update: Update, context: BotContext) -> None:
    """A shared location or venue: services near it. Never logged, never stored beyond ~1 km precision."""
    if await relayed(update, context) or update.edited_message is not None:
        return  # a live location moving is not a new request
    message = update.effective_message
    shared = message.location or (message.venue.location if message.venue else None) if message else None
    if shared is None:
        return
    conversation = context.services.conversation
    await send_all(update, context, conversation.on_location(user_of(update, context), shared.latitude,
                                                             shared.longitude))


async def other(update: Update, context: BotContext) -> None:
    """Stickers, contacts, polls, dice and anything else that is not text."""
    if await relayed(update, context):
        return
    await send_all(update, context, context.services.conversation.notice(user_of(update, context), "not_text"))


async def not_written_to_the_assistant(update: Update, context: BotContext) -> None:
    """Ignore on purpose Telegram's notes about the chat (a pinned message, the auto-delete timer, a payment)
    and messages of a business account or guest chat: nobody wrote them to the assistant."""
    logger.debug("service, business or guest message ignored")


async def group(update: Update, context: BotContext) -> None:
    """Ignore group and channel chats on purpose: people must not expose themselves there."""
    logger.debug("update from a non-private chat ignored")
