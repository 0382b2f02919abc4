"""Commands: /start, /menu, /help, /language, /privacy, /forget, /human, and unknown ones."""

from __future__ import annotations

from collections.abc import AsyncIterator

from telegram import Update

from bot.conversation import clean_text
from bot.handlers.context import BotContext
from bot.handlers.sending import send_all, user_of
from bot.replies import LanguageMenu, MainMenu, Said


async def start(update: Update, context: BotContext) -> None:
    """Welcome the user, say what is stored, show the main menu."""
    await send_all(update, context, context.services.conversation.notice(user_of(update, context), "welcome"))


async def menu(update: Update, context: BotContext) -> None:
    """Show the main menu."""
    language = await context.services.conversation.language_of(user_of(update, context))
    await send_all(update, context, _one(Said(MainMenu(), language)))


async def help_command(update: Update, context: BotContext) -> None:
    """List what the user can do."""
    await send_all(update, context, context.services.conversation.notice(user_of(update, context), "help"))


async def language(update: Update, context: BotContext) -> None:
    """Offer the languages."""
    current = await context.services.conversation.language_of(user_of(update, context))
    await send_all(update, context, _one(Said(LanguageMenu(), current)))


async def privacy(update: Update, context: BotContext) -> None:
    """Explain what is stored and for how long."""
    await send_all(update, context, context.services.conversation.notice(user_of(update, context), "privacy"))


async def forget(update: Update, context: BotContext) -> None:
    """Ask for confirmation before deleting everything stored about the user."""
    await send_all(update, context, context.services.conversation.notice(user_of(update, context), "forget_confirm"))


async def human(update: Update, context: BotContext) -> None:
    """Ask for a person."""
    user = user_of(update, context)
    conversation = context.services.conversation
    await send_all(update, context, conversation.on_topic(user, "request_human", await conversation.language_of(user)))


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command this bot does not have (never passed to the engine)."""
    message = update.effective_message
    # Echoed back, so cleaned like any text: a lone surrogate could not even be sent to Telegram.
    command = clean_text(message.text.split()[0])[:32] if message and message.text else ""
    await send_all(update, context, context.services.conversation.notice(
        user_of(update, context), "unknown_command", command=command or "/"))


async def _one(said: Said) -> AsyncIterator[Said]:
    yield said
