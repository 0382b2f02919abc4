"""Volunteer and coordinator commands. To anybody else they answer exactly like an unknown command."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import TelegramError

from bot.handlers import commands
from bot.handlers.context import BotContext
from bot.handlers.sending import send_text, user_of
from bot.handoff import suggestions as good_answers
from bot.handoff.models import Volunteer
from bot.handoff.texts import SKILLS, Text
from bot.health import DATABASE_TIMEOUT

Command = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def _args(context: BotContext) -> list[str]:
    return list(context.args or [])


async def _volunteer(update: Update, context: BotContext, *, coordinator: bool = False) -> Volunteer | None:
    """The registered volunteer sending this command; otherwise answer as for an unknown command."""
    chat = update.effective_chat
    volunteer = await context.services.handoff.volunteers.get(chat.id) if chat else None
    if volunteer is None or (coordinator and not volunteer.is_coordinator):
        await commands.unknown_command(update, context)
        return None
    return volunteer


async def _reply(context: BotContext, volunteer: Volunteer, text: Text | None) -> None:
    if text is not None:
        await send_text(context, volunteer.chat_id, text.text, text.buttons)


def _notice(context: BotContext, volunteer: Volunteer, kind: str, **params: str) -> Text:
    return context.services.handoff.desk.texts.volunteer_notice(volunteer.ui_language, kind, **params)


async def register(update: Update, context: BotContext) -> None:
    """/volunteer CODE: register with a coordinator's invite code."""
    chat = update.effective_chat
    assert chat is not None
    handoff = context.services.handoff
    language = await context.services.conversation.language_of(user_of(update, context))
    code = (_args(context) or [""])[0]
    outcome = await handoff.volunteers.register(chat.id, code, "Volunteer", language) if code else "invalid"
    texts = handoff.desk.texts
    kind = {"registered": "registered", "already": "already", "invalid": "invalid_invite"}[outcome]
    await send_text(context, chat.id, texts.volunteer_notice(language, kind).text)
    if outcome == "registered":
        profile = await handoff.volunteers.profile(chat.id)
        if profile is not None:
            await send_text(context, chat.id, profile.text, profile.buttons)


async def profile(update: Update, context: BotContext) -> None:
    """/profile: languages, skills, chats at once, name and status, with buttons to change them."""
    if volunteer := await _volunteer(update, context):
        await _reply(context, volunteer, await context.services.handoff.volunteers.profile(volunteer.chat_id))


async def name(update: Update, context: BotContext) -> None:
    """/name NAME: the first name or pseudonym people see."""
    if volunteer := await _volunteer(update, context):
        chosen = " ".join(_args(context))
        if not chosen:
            await _reply(context, volunteer, _notice(context, volunteer, "name_usage"))
            return
        await _reply(context, volunteer, await context.services.handoff.volunteers.change(
            volunteer.chat_id, "name", chosen))


async def online(update: Update, context: BotContext) -> None:
    """/online: receive new requests in my languages."""
    if volunteer := await _volunteer(update, context):
        await _reply(context, volunteer, await context.services.handoff.volunteers.set_online(volunteer.chat_id, True))


async def offline(update: Update, context: BotContext) -> None:
    """/offline: no new requests (held chats stay)."""
    if volunteer := await _volunteer(update, context):
        await _reply(context, volunteer, await context.services.handoff.volunteers.set_online(volunteer.chat_id,
                                                                                               False))


async def queue(update: Update, context: BotContext) -> None:
    """/queue: the people waiting in my languages, with Take buttons."""
    if volunteer := await _volunteer(update, context):
        await _reply(context, volunteer, await context.services.handoff.volunteers.waiting_list(volunteer.chat_id))


def _label_and_rest(args: list[str]) -> tuple[str | None, str | None]:
    """`/release 4F2K note...` or `/release note...`: a case code is four letters and digits."""
    if args and len(args[0]) == 4 and args[0].isalnum() and args[0].upper() == args[0]:
        return args[0], " ".join(args[1:]) or None
    return None, " ".join(args) or None


async def release(update: Update, context: BotContext) -> None:
    """/release [CASE] [note]: give the case back to the queue with a note."""
    if volunteer := await _volunteer(update, context):
        label, note = _label_and_rest(_args(context))
        if await context.services.handoff.queue.release(volunteer.chat_id, label, note) is None:
            await _reply(context, volunteer, _notice(context, volunteer, "no_case"))


async def transfer(update: Update, context: BotContext) -> None:
    """/transfer [CASE] LANGUAGE|SKILL [note]: pass the case to a volunteer with that language or skill."""
    if volunteer := await _volunteer(update, context):
        label, rest = _label_and_rest(_args(context))
        target, _, note = (rest or "").partition(" ")
        languages = context.services.languages.codes
        if target not in languages and target not in SKILLS:
            await _reply(context, volunteer, _notice(context, volunteer, "transfer_usage",
                                                     languages=", ".join(languages), skills=", ".join(SKILLS)))
            return
        if await context.services.handoff.queue.transfer(volunteer.chat_id, label, target, note or None) is None:
            await _reply(context, volunteer, _notice(context, volunteer, "no_case"))


async def close(update: Update, context: BotContext) -> None:
    """/close [CASE]: end the conversation; the person returns to the assistant."""
    if volunteer := await _volunteer(update, context):
        label, _ = _label_and_rest(_args(context))
        if await context.services.handoff.queue.close(volunteer.chat_id, label) is None:
            await _reply(context, volunteer, _notice(context, volunteer, "no_case"))


async def canned(update: Update, context: BotContext) -> None:
    """/canned: ready replies, sent in the person's language."""
    if volunteer := await _volunteer(update, context):
        await _reply(context, volunteer, context.services.handoff.desk.texts.canned_menu(volunteer.ui_language))


async def switch(update: Update, context: BotContext) -> None:
    """/switch CASE: send my next messages to that case."""
    if volunteer := await _volunteer(update, context):
        label = (_args(context) or [""])[0]
        await _reply(context, volunteer, await context.services.handoff.volunteers.switch(volunteer.chat_id, label))


async def good(update: Update, context: BotContext) -> None:
    """/good: suggest a reply I wrote (the one I reply to, else my last one) to the editors as a good answer."""
    if volunteer := await _volunteer(update, context):
        message = update.effective_message
        reply_to = message.reply_to_message.message_id if message and message.reply_to_message else None
        desk = context.services.handoff.desk
        outcome = await good_answers.mark_good(desk.sessions, volunteer.chat_id, reply_to, desk.clock())
        await _reply(context, volunteer, _notice(context, volunteer, f"good_{outcome}"))


# --- coordinators ---------------------------------------------------------------------------


async def invite(update: Update, context: BotContext) -> None:
    """/invite [coordinator]: a single-use registration code."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        role = "coordinator" if _args(context)[:1] == ["coordinator"] else "volunteer"
        created = await context.services.handoff.volunteers.create_invite(role, coordinator.id)
        texts = context.services.handoff.desk.texts
        await _reply(context, coordinator, texts.invite(coordinator.ui_language, created.code, role,
                                                        created.expires_at))


async def volunteers(update: Update, context: BotContext) -> None:
    """/volunteers: everyone registered, with their number for /remove."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        listed = await context.services.handoff.volunteers.list_volunteers()
        texts = context.services.handoff.desk.texts
        await _reply(context, coordinator, texts.volunteer_list(coordinator.ui_language, [
            (v.id, v.display_name, v.role, v.languages, v.online) for v in listed]))


async def remove(update: Update, context: BotContext) -> None:
    """/remove NUMBER: deregister a volunteer; their chats go back to the queue."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        number = (_args(context) or [""])[0].lstrip("#")
        if not number.isdigit():
            await _reply(context, coordinator, _notice(context, coordinator, "remove_usage"))
            return
        count = await context.services.handoff.volunteers.remove(coordinator.chat_id, int(number))
        if count is None:
            await _reply(context, coordinator, _notice(context, coordinator, "not_found", label=f"#{number}"))
        else:
            await _reply(context, coordinator, _notice(context, coordinator, "removed_done", number=number,
                                                       count=str(count)))


async def stats(update: Update, context: BotContext) -> None:
    """/stats: queue, waits, volunteers online, ratings."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        numbers = await context.services.handoff.volunteers.stats()
        await _reply(context, coordinator, context.services.handoff.desk.texts.stats(coordinator.ui_language,
                                                                                     numbers))


async def transcript(update: Update, context: BotContext) -> None:
    """/transcript CASE: the stored conversation of a case (for reports)."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        label = (_args(context) or [""])[0]
        if not label:
            await _reply(context, coordinator, _notice(context, coordinator, "transcript_usage"))
            return
        lines = await context.services.handoff.volunteers.transcript(coordinator.chat_id, label)
        if not lines:
            await _reply(context, coordinator, _notice(context, coordinator, "not_found", label=label[:8]))
            return
        chunk: list[str] = []
        for line in lines:
            if sum(len(part) + 1 for part in chunk) + len(line) > 3900:
                await send_text(context, coordinator.chat_id, "\n".join(chunk))
                chunk = []
            chunk.append(line[:3900])
        await send_text(context, coordinator.chat_id, "\n".join(chunk))


async def suggestions(update: Update, context: BotContext) -> None:
    """/suggestions: how many good answers wait for the editors, and the latest five."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        async with context.services.sessions() as session:
            count = await good_answers.count_new(session)
            latest = await good_answers.listed(session, newest_first=True, limit=5)
        await _reply(context, coordinator, context.services.handoff.desk.texts.suggestions(
            coordinator.ui_language, count, latest))


async def reload(update: Update, context: BotContext) -> None:
    """/reload: serve the edited knowledge base now; files with errors leave the previous content in place."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        outcome = await context.services.reload_content()
        await _reply(context, coordinator, context.services.handoff.desk.texts.content_reload(
            coordinator.ui_language, applied=outcome.applied, problems=outcome.problems, changed=outcome.changed,
            retrain_needed=outcome.retrain_needed, errors=outcome.errors))


async def health(update: Update, context: BotContext) -> None:
    """/health: whether the bot, the engine and the database answer. Works while the database is down."""
    chat = update.effective_chat
    assert chat is not None
    monitor = context.services.health
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            volunteer = await context.services.handoff.volunteers.get(chat.id)
        language = volunteer.ui_language if volunteer is not None and volunteer.is_coordinator else None
    except Exception:  # the database is down: the coordinators as the monitor last read them
        cached = monitor.is_coordinator(chat.id)
        language = cached.language if cached is not None else None
    if language is None:
        await commands.unknown_command(update, context)
        return
    started = time.monotonic()
    try:
        await context.bot.get_me()
        telegram_up = True
    except TelegramError:
        telegram_up = False
    rows: list[tuple[str, bool, float, timedelta | None]] = [("bot", telegram_up, time.monotonic() - started, None)]
    rows += [(check.component, check.up, check.seconds, monitor.down_for(check.component))
             for check in await monitor.check()]
    await send_text(context, chat.id, context.services.handoff.desk.texts.health_report(language, rows).text)


async def ban(update: Update, context: BotContext) -> None:
    """/ban CASE [reason]: the assistant ignores the person of that case from now on, except emergencies."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        args = _args(context)
        if not args:
            await _reply(context, coordinator, _notice(context, coordinator, "ban_usage"))
            return
        label, reason = args[0].upper()[:8], " ".join(args[1:]) or None
        outcome, number = await context.services.gatekeeper.bans.ban(coordinator.chat_id, label, reason)
        if outcome == "banned":
            await _reply(context, coordinator, _notice(context, coordinator, "banned_done", label=label,
                                                       number=str(number)))
        elif outcome == "already":
            await _reply(context, coordinator, _notice(context, coordinator, "already_banned", label=label,
                                                       number=str(number)))
        else:
            await _reply(context, coordinator, _notice(context, coordinator, "not_found", label=label))


async def unban(update: Update, context: BotContext) -> None:
    """/unban NUMBER|CASE: lift a ban."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        reference = (_args(context) or [""])[0][:12]
        if not reference:
            await _reply(context, coordinator, _notice(context, coordinator, "unban_usage"))
            return
        number = await context.services.gatekeeper.bans.unban(coordinator.chat_id, reference)
        if number is None:
            await _reply(context, coordinator, _notice(context, coordinator, "not_found", label=reference))
        else:
            await _reply(context, coordinator, _notice(context, coordinator, "unbanned_done", number=str(number)))


async def bans(update: Update, context: BotContext) -> None:
    """/bans: every ban, with its number for /unban."""
    if coordinator := await _volunteer(update, context, coordinator=True):
        listed = await context.services.gatekeeper.bans.listed(coordinator.chat_id) or []
        await _reply(context, coordinator, context.services.handoff.desk.texts.ban_list(coordinator.ui_language,
                                                                                        listed))


VOLUNTEER_COMMANDS: dict[str, Command] = {
    "volunteer": register, "profile": profile, "name": name, "online": online, "offline": offline,
    "queue": queue, "release": release, "transfer": transfer, "close": close, "canned": canned, "switch": switch,
    "good": good, "invite": invite, "volunteers": volunteers, "remove": remove, "stats": stats,
    "transcript": transcript, "suggestions": suggestions, "reload": reload, "health": health,
    "ban": ban, "unban": unban, "bans": bans,
}
# Refused to volunteers who are not coordinators, exactly as an unknown command is answered.
COORDINATOR_COMMANDS = frozenset({"invite", "volunteers", "remove", "stats", "transcript", "suggestions", "reload",
                                  "health", "ban", "unban", "bans"})
