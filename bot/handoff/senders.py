"""Outbox senders: Telegram (sendMessage, copyMessage, editMessageText) and the console.

Telegram's answers map onto the outbox's two outcomes: "retry later" (flood control with
`retry_after`, timeouts, network errors) and "never" (blocked by the user, chat not found,
bad request). Copies are used, never forwards, which would reveal the sender's account.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from dataclasses import dataclass, field
from typing import Any, TextIO

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.handoff.outbox import Delivery, RetryLater, Undeliverable


def markup(buttons: list[list[list[str]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in buttons])


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
            return await self._call(delivery)
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc) + 0.5, "flood control") from None
        except Forbidden as exc:
            raise Undeliverable(f"forbidden: {exc.message[:80]}") from None
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                return delivery.edit_message_id or 0
            raise Undeliverable(f"bad request: {exc.message[:80]}") from None
        except ChatMigrated:
            raise Undeliverable("chat migrated") from None
        except NetworkError as exc:  # includes TimedOut: Telegram may or may not have it; retry
            raise RetryLater(3.0, f"network: {type(exc).__name__}") from None
        except TelegramError as exc:
            raise Undeliverable(f"telegram: {type(exc).__name__}") from None

    async def _call(self, delivery: Delivery) -> int:
        reply_markup = markup(delivery.buttons)
        if delivery.edit_message_id is not None:
            await self.bot.edit_message_text(delivery.text or "…", chat_id=delivery.chat_id,
                                             message_id=delivery.edit_message_id, reply_markup=reply_markup)
            return delivery.edit_message_id
        if delivery.copy_from_chat_id is not None and delivery.copy_message_id is not None:
            copied = await self.bot.copy_message(delivery.chat_id, delivery.copy_from_chat_id,
                                                 delivery.copy_message_id, caption=delivery.text,
                                                 reply_markup=reply_markup)
            return int(copied.message_id)
        message = await self.bot.send_message(delivery.chat_id, delivery.text or "…", reply_markup=reply_markup)
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
