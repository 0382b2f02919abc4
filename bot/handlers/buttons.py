"""Inline button presses."""

from __future__ import annotations

from telegram import Update

from bot.callbacks import decode
from bot.handlers.context import BotContext
from bot.handlers.sending import send_all, user_of


async def button(update: Update, context: BotContext) -> None:
    """Acknowledge the press at once, then answer it (forged or stale data gets the menu)."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    if query.message is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    services = context.services
    action = decode(
        query.data if isinstance(query.data, str) else None,
        topics=frozenset(services.knowledge.topics),
        languages=services.languages.codes,
    )
    await send_all(update, context, services.conversation.on_button(user_of(update, context), action))
