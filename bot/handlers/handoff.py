"""The handoff in Telegram: relaying messages, the user's /cancel and /report, and handoff buttons.

`relayed` runs before the conversation for every private message: while a volunteer holds the
user's case (or the sender is a volunteer holding cases) the message is relayed, and the engine
never sees it.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update

from bot.handlers.context import BotContext
from bot.handlers.sending import send_text, user_of
from bot.handoff.relay import Incoming, storable
from bot.intake import settled

logger = logging.getLogger(__name__)

KINDS = ("text", "photo", "voice", "audio", "video", "video_note", "document", "animation", "sticker",
         "venue", "location", "contact", "poll", "dice")


def incoming(message: Message) -> Incoming:
    """The relay's view of a message: its kind, its text or caption, and where to copy it from."""
    kind = next((k for k in KINDS if getattr(message, k, None)), "other")
    text = storable(message.text if kind == "text" else message.caption)  # Telegram's JSON may hold lone surrogates
    edit_date = int(message.edit_date.timestamp()) if message.edit_date else 0
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    return Incoming(message.chat.id, message.message_id, kind, text, edit_date, reply_to)


async def relayed(update: Update, context: BotContext) -> bool:
    """Relay the message if it belongs to a handoff; True when it was handled here."""
    handled = await _relay(update, context)
    settled(context.bot, update)  # stored if it was a handoff message: Telegram may be told it arrived
    return handled


async def _relay(update: Update, context: BotContext) -> bool:
    message = update.effective_message
    if message is None or update.effective_user is None:
        return False
    handoff = context.services.handoff
    user = user_of(update, context)
    item = incoming(message)
    outcome = await handoff.relay.from_user(user.key, item)
    if outcome in {"relayed", "duplicate"}:
        return True
    if outcome == "kept":
        language = await context.services.conversation.language_of(user)
        text = handoff.desk.texts.seen_later(language)
        await send_text(context, message.chat.id, text.text)
        return True
    if outcome == "waiting":
        return False
    if item.kind == "text" and (item.text or "").startswith("/"):
        return False
    volunteer_outcome, _ = await handoff.relay.from_volunteer(item)
    if volunteer_outcome in {"not_volunteer", "no_case"}:
        return False
    if volunteer_outcome == "which_case":
        volunteer = await handoff.volunteers.get(message.chat.id)
        language = volunteer.ui_language if volunteer else "en"
        await send_text(context, message.chat.id,
                        handoff.desk.texts.volunteer_notice(language, "which_case").text)
    return True


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel: leave the queue, or end the conversation with the volunteer."""
    user = user_of(update, context)
    language = await context.services.conversation.language_of(user)
    assert user.chat_id is not None
    await context.services.handoff.queue.cancel(user.key, language, user.chat_id)


async def report(update: Update, context: BotContext) -> None:
    """/report: report the current or last volunteer to the coordinators."""
    user = user_of(update, context)
    language = await context.services.conversation.language_of(user)
    assert user.chat_id is not None
    await context.services.handoff.queue.report(user.key, None, language, user.chat_id)


async def handoff_button(update: Update, context: BotContext, query: CallbackQuery, value: str) -> None:
    """A handoff button: take, rate, report, leave, canned reply, profile toggle, contact review."""
    services = context.services
    handoff = services.handoff
    chat_id = query.message.chat.id if query.message else 0
    user = user_of(update, context)
    name, _, rest = value.partition(":")
    toast: str | None = None
    if name == "take":
        outcome, detail = await handoff.queue.take(chat_id, int(rest))
        if outcome != "taken":
            volunteer = await handoff.volunteers.get(chat_id)
            language = volunteer.ui_language if volunteer else await services.conversation.language_of(user)
            toast = handoff.desk.texts.take_refused(language, outcome, held=int(detail or 0))
    elif name == "rate":
        case_id, _, stars = rest.partition(":")
        if not await handoff.queue.rate(user.key, int(case_id), int(stars)):
            toast = services.catalogs.get(await services.conversation.language_of(user))._(
                "This button is no longer valid.")
    elif name == "report":
        language = await services.conversation.language_of(user)
        await handoff.queue.report(user.key, int(rest), language, chat_id)
    elif name == "leave":
        language = await services.conversation.language_of(user)
        await handoff.queue.cancel(user.key, language, chat_id)
    elif name == "canned":
        if not await handoff.volunteers.canned(chat_id, rest):
            toast = await _no_case(context, chat_id)
    elif name in {"vlang", "vskill", "vmax"}:
        profile = await handoff.volunteers.change(chat_id, name, rest)
        if profile is not None and query.message is not None:
            await send_text(context, chat_id, profile.text, profile.buttons)
    elif name in {"allow", "reject"}:
        await handoff.relay.review(chat_id, int(rest), allow=name == "allow")
    await query.answer(toast)


async def _no_case(context: BotContext, chat_id: int) -> str | None:
    volunteer = await context.services.handoff.volunteers.get(chat_id)
    if volunteer is None:
        return None
    return context.services.handoff.desk.texts.volunteer_notice(volunteer.ui_language, "no_case").text
