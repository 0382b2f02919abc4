"""Outbox senders: Telegram (sendMessage, copyMessage, editMessageText) and the console.

Telegram's answers map onto the outbox's two outcomes: "retry later" (flood control with
`retry_after`, timeouts, network errors) and "never" (blocked by the user, chat not found,
bad request). Before that, what Telegram would refuse is made to fit: a text over 4096
characters goes out in several messages, a caption over 1024 as a message before the copy,
buttons whose data Telegram rejects are left off. Copies are used, never forwards, which would
reveal the sender's account.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.handoff.outbox import Delivery, RetryLater, Undeliverable
from bot.telegram_limits import CAPTION_LIMIT, MESSAGE_LIMIT, fits_callback, split_text, telegram_length

logger = logging.getLogger(__name__)


def markup(buttons: list[list[list[str]]] | None) -> InlineKeyboardMarkup | None:
    """The inline keyboard, without any button whose data Telegram would reject."""
    rows = [[InlineKeyboardButton(label, callback_data=data) for label, data in row if fits_callback(data)]
            for row in buttons or []]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


def maybe_sent(error: NetworkError) -> bool:
    """Whether a failed call may still have been carried out: only when the request was on its way.

    python-telegram-bot raises TimedOut for every httpx timeout; one while connecting or waiting
    for a pooled connection means the request never left.
    """
    cause = error.__cause__
    if isinstance(error, TimedOut):
        return type(cause).__name__ not in {"ConnectTimeout", "PoolTimeout"} and "Pool timeout" not in error.message
    return type(cause).__name__ not in {"ConnectError", "ConnectTimeout"}


def is_button_data_error(error: BadRequest) -> bool:
    return "button_data_invalid" in error.message.lower()


def is_too_long(error: BadRequest) -> bool:
    return "too long" in error.message.lower()


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


@dataclass(frozen=True)
class TelegramSender:
    """Delivers outbox messages through the Bot API."""

    bot: Bot

    async def deliver(self, delivery: Delivery) -> int:
        try:
            try:
                return await self._call(delivery, MESSAGE_LIMIT)
            except BadRequest as exc:
                if is_button_data_error(exc) and delivery.buttons:
                    # Telegram does not say which button: the message goes out without any.
                    logger.warning("buttons refused by Telegram; the message is sent without them")
                    return await self._call(replace(delivery, buttons=None), MESSAGE_LIMIT)
                if is_too_long(exc):  # Telegram measured differently than we did: smaller parts
                    return await self._call(delivery, MESSAGE_LIMIT // 2)
                raise
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc) + 0.5, "flood control", flood=True) from None
        except Forbidden as exc:
            raise Undeliverable(f"forbidden: {exc.message[:80]}") from None
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                return delivery.edit_message_id or 0
            raise Undeliverable(f"bad request: {exc.message[:80]}") from None
        except ChatMigrated:
            raise Undeliverable("chat migrated") from None
        except NetworkError as exc:  # includes TimedOut: Telegram may or may not have it; retry
            raise RetryLater(3.0, f"network: {type(exc).__name__}", maybe_sent=maybe_sent(exc)) from None
        except TelegramError as exc:
            raise Undeliverable(f"telegram: {type(exc).__name__}") from None

    async def _call(self, delivery: Delivery, limit: int) -> int:
        reply_markup = markup(delivery.buttons)
        if delivery.edit_message_id is not None:
            # The bot's own short notices; one that grew too long is shortened rather than lost.
            text = split_text(delivery.text or "…", limit - 1)
            await self.bot.edit_message_text(text[0] + ("…" if len(text) > 1 else ""), chat_id=delivery.chat_id,
                                             message_id=delivery.edit_message_id, reply_markup=reply_markup)
            return delivery.edit_message_id
        if delivery.copy_from_chat_id is not None and delivery.copy_message_id is not None:
            caption = delivery.text
            if caption is not None and telegram_length(caption) > min(limit, CAPTION_LIMIT):
                for part in split_text(caption, limit):  # the caption goes first, as messages of its own
                    await self.bot.send_message(delivery.chat_id, part)
                caption = None
            copied = await self.bot.copy_message(delivery.chat_id, delivery.copy_from_chat_id,
                                                 delivery.copy_message_id, caption=caption,
                                                 reply_markup=reply_markup)
            return int(copied.message_id)
        *first, last = split_text(delivery.text or "…", limit)
        for part in first:
            await self.bot.send_message(delivery.chat_id, part)
        message = await self.bot.send_message(delivery.chat_id, last, reply_markup=reply_markup)
        return int(message.message_id)


@dataclass
class ConsoleSender:
    """Prints what the outbox has for the console user; buttons become numbers like the rest of the chat."""

    out: TextIO
    chat_id: int
    on_buttons: Any = None  # called with the [[label, data]] rows so the console can number them
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def deliver(self, delivery: Delivery) -> int:
        if delivery.chat_id != self.chat_id:
            raise Undeliverable("volunteers need Telegram")
        prefix = "(updated) " if delivery.edit_message_id is not None else ""
        print(f"\n{prefix}{delivery.text or ''}", file=self.out, flush=True)
        if delivery.buttons and self.on_buttons is not None:
            self.on_buttons(delivery.buttons)
        return next(self._ids)
