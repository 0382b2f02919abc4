"""Inline button presses."""

from __future__ import annotations

from telegram import Update

from bot.callbacks import decode
from bot.handlers.context import BotContext
from bot.handlers.handoff import handoff_button
from bot.handlers.sending import send_all, user_of


async def button(update: Update, context: BotContext) -> None:
    """Answer a press (forged or stale data gets the menu); handoff buttons go to the handoff desk."""
    query = update.callback_query
    if query is None:
        return
    if query.message is None or update.effective_chat is None or update.effective_chat.type != "private":
        await query.answer()
        return
    services = context.services
    action = decode(
        query.data if isinstance(query.data, str) else None,
        topics=frozenset(services.knowledge.topics),
        languages=services.languages.codes,
    )
    if action is not None and action.kind == "handoff":
        await handoff_button(update, context, query, action.value)
        return
    await query.answer()
    if action is not None and action.kind == "language":
        await services.handoff.volunteers.change(update.effective_chat.id, "ui", action.value)
    await send_all(update, context, services.conversation.on_button(user_of(update, context), action))
