"""The first handler of every update (group -1): bans and flood limits, decided by bot/abuse.py.

An update the gate answers itself (a notice, the emergency answer) or drops stops here with
ApplicationHandlerStop; every other update goes on to the ordinary handlers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.callbacks import ButtonAction, encode
from bot.conversation import clean_text
from bot.handlers.context import BotContext
from bot.handlers.sending import send_all, user_of
from bot.replies import Notice, Said

logger = logging.getLogger(__name__)

# Even a banned person may delete what is stored about them (the ban itself stays).
FORGET_BUTTONS = frozenset(encode(ButtonAction("forget", answer)) for answer in ("yes", "no"))


async def gate(update: Update, context: BotContext) -> None:
    """Let the update through, or answer it here (notice, emergency answer), or drop it on purpose."""
    chat = update.effective_chat
    if chat is None or chat.type != "private" or update.effective_user is None:
        return  # group chats are ignored by their own handler
    services = context.services
    message = update.effective_message
    query = update.callback_query
    text = (message.text or message.caption or "") if message is not None and query is None else ""
    user = user_of(update, context)
    emergency = bool(text) and services.emergency.match(clean_text(text)) is not None
    forget = text.split(maxsplit=1)[:1] == ["/forget"] or (query is not None and query.data in FORGET_BUTTONS)
    try:
        verdict = await services.gatekeeper.screen(user.key, chat.id, emergency=emergency, forget=forget)
    except Exception as exc:  # never let the gate itself lose a message: the handlers answer as usual
        logger.warning("gate failed, update let through: %s", type(exc).__name__)
        return
    if verdict.action == "pass":
        return
    if query is not None:
        await query.answer()
    if verdict.action == "emergency":
        await send_all(update, context, services.conversation.emergency_only(user, text))
    elif verdict.action == "notice" and verdict.notice is not None:
        language = await services.conversation.language_of(user)
        await send_all(update, context, _one(Said(Notice(verdict.notice), language)))
    raise ApplicationHandlerStop


async def _one(said: Said) -> AsyncIterator[Said]:
    yield said
