"""Send rendered replies to a Telegram chat."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, Update

from bot.conversation import User
from bot.handlers.context import BotContext
from bot.outgoing import Button, Outgoing
from bot.replies import Said


def keyboard(outgoing: Outgoing) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if outgoing.keyboard:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(b.label, request_location=b.request_location) for b in row] for row in outgoing.keyboard],
            resize_keyboard=True, one_time_keyboard=True,
        )
    if not outgoing.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in outgoing.buttons]
    )


async def send_all(update: Update, context: BotContext, replies: AsyncIterator[Said]) -> None:
    """Render and send each reply as soon as the conversation yields it."""
    chat = update.effective_chat
    if chat is None:
        return
    async for said in replies:
        outgoing = context.services.renderer.render(said)
        await context.bot.send_message(chat.id, outgoing.text, reply_markup=keyboard(outgoing))


async def send_text(context: BotContext, chat_id: int, text: str, buttons: Sequence[Sequence[Button]] = ()) -> None:
    """Send one plain-text message with optional buttons (volunteer and coordinator screens)."""
    markup = keyboard(Outgoing(text, tuple(tuple(row) for row in buttons)))
    await context.bot.send_message(chat_id, text, reply_markup=markup)


def user_of(update: Update, context: BotContext) -> User:
    """The pipeline's pseudonymous view of whoever sent this update."""
    sender = update.effective_user
    assert sender is not None  # private-chat handlers only
    return context.services.user(sender.id, sender.language_code)
