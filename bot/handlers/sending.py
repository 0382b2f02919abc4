"""Send rendered replies to a Telegram chat, handling Telegram's refusals as it documents them.

429: wait `retry_after` and send again (Telegram took nothing). Timeout or network error: send
again, at most `ATTEMPTS` times in all, so a reply is delivered at least once and, when the
first call reached Telegram without its answer reaching us, at most `ATTEMPTS` times. 403 (the
user blocked the bot): nothing can reach them; logged and dropped. 400 "message is too long":
sent in parts. 400 BUTTON_DATA_INVALID: sent without the buttons. Relayed handoff messages do
not come through here but through the outbox, which stores them first.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.conversation import User
from bot.handlers.context import BotContext
from bot.outgoing import Button, Outgoing
from bot.replies import Said
from bot.telegram_limits import MESSAGE_LIMIT, fits_callback, split_text

logger = logging.getLogger(__name__)

ATTEMPTS = 3
LONGEST_WAIT = 60.0  # seconds of "retry after" worth waiting for in a handler; longer ones give up
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None


def keyboard(outgoing: Outgoing) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if outgoing.keyboard:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(b.label, request_location=b.request_location) for b in row] for row in outgoing.keyboard],
            resize_keyboard=True, one_time_keyboard=True,
        )
    if not outgoing.buttons:
        return None
    rows = [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row if fits_callback(b.data)]
            for row in outgoing.buttons]
    if sum(map(len, rows)) < sum(map(len, outgoing.buttons)):
        logger.warning("buttons with data over 64 bytes left off a message")
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def send(context: BotContext, chat_id: int, text: str, reply_markup: Markup = None) -> None:
    """Send `text` (in parts when it is too long), its buttons under the last part."""
    *first, last = split_text(text, MESSAGE_LIMIT)
    for part in first:
        await _send_one(context, chat_id, part, None)
    await _send_one(context, chat_id, last, reply_markup)


async def _send_one(context: BotContext, chat_id: int, text: str, reply_markup: Markup) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await context.bot.send_message(chat_id, text, reply_markup=reply_markup)
            return
        except RetryAfter as error:
            wait = _seconds(error)
            if wait > LONGEST_WAIT:
                raise
            await asyncio.sleep(wait)
        except Forbidden:
            logger.info("a reply was not delivered: the user blocked the bot")
            return
        except BadRequest as error:
            message = error.message.lower()
            if "button_data_invalid" in message and reply_markup is not None:
                logger.warning("buttons refused by Telegram; the reply is sent without them")
                reply_markup = None
            elif "too long" in message:  # Telegram measured differently than we did: smaller parts
                *first, last = split_text(text, MESSAGE_LIMIT // 2)
                for part in first:
                    await context.bot.send_message(chat_id, part)
                text = last
            else:
                raise
        except NetworkError:  # includes timeouts: sent again, so at least once
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(0.5 * attempt)
    raise RuntimeError("reply not sent after retries")


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # python-telegram-bot warns that the type will become timedelta
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def send_all(update: Update, context: BotContext, replies: AsyncIterator[Said]) -> None:
    """Render and send each reply as soon as the conversation yields it."""
    chat = update.effective_chat
    if chat is None:
        return
    async for said in replies:
        outgoing = context.services.renderer.render(said)
        await send(context, chat.id, outgoing.text, keyboard(outgoing))


async def send_text(context: BotContext, chat_id: int, text: str, buttons: Sequence[Sequence[Button]] = ()) -> None:
    """Send one plain-text message with optional buttons (volunteer and coordinator screens)."""
    await send(context, chat_id, text, keyboard(Outgoing(text, tuple(tuple(row) for row in buttons))))


def user_of(update: Update, context: BotContext) -> User:
    """The pipeline's pseudonymous view of whoever sent this update."""
    sender = update.effective_user
    assert sender is not None  # private-chat handlers only
    return context.services.user(sender.id, sender.language_code)
