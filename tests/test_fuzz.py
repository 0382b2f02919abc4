"""Fuzz: at least 10,000 generated updates through the real handlers, the real engine and the fake Bot API.

Hostile and unusual input (tests/fuzz_updates.py: scripts, control and bidi characters, surrogates,
4096-character and longer texts, HTML and Markdown injection, odd commands, forged and replayed
button data, every kind of message and update) must never reach the error handler or log an error;
every update is answered (a message in the chat, a button press answered, a message relayed to the
volunteer holding the case) or belongs to a class the bot ignores on purpose, asserted class by
class; and nothing the bot sends asks Telegram to render markup.

Ignored on purpose (the bot sends nothing): group and channel chats, where people must not expose
themselves; Telegram's notes about a chat ("service.*": a pinned message, the auto-delete timer, a
payment, shared users or chats, web-app data); business and guest messages, which nobody wrote to the
assistant; a live location moving ("edited.live_location"); and updates that are neither a message
nor a button press ("update.*": chat membership, inline queries, polls, reactions, boosts, payments).

Updates go through the application as polling delivers them: JSON decoded into an `Update`, then
the application's per-chat update processor and `process_update`, several chats at once.
Set FUZZ_SEED to replay a run (the seed is printed on failure) and FUZZ_UPDATES to change its size.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram import Update

from bot.handlers.handoff import KINDS
from bot.handoff.relay import CAPTIONED
from bot.settings import Settings
from tests.fake_telegram import FakeTelegram, Sent
from tests.fuzz_updates import Case, Generator, Step, callback_id, watched_chat
from tests.running_bot import RunningBot, register, running_bot

pytestmark = pytest.mark.engine

SEED = int(os.environ.get("FUZZ_SEED", "20240607"))
UPDATES = int(os.environ.get("FUZZ_UPDATES", "10000"))
# Most update kinds never reach the engine; texts do, and the engine (~30 messages/s on 2 cores) sets the pace.
TEXT_SHARE = float(os.environ.get("FUZZ_TEXT_SHARE", "0.15"))
WORKERS = 8  # chats at once: enough to keep the engine busy without queueing past its timeout
REPLY_WAIT = 10.0
VOLUNTEER = 7_000_001
# Markup a message could ask Telegram to render; the bot sends plain text only.
MARKUP_PARAMETERS = ("parse_mode", "entities", "caption_entities")


@dataclass
class Recorder:
    """What the bot sent, indexed by chat and by answered button press, with a wake-up per chat."""

    by_chat: dict[int, list[Sent]] = field(default_factory=lambda: defaultdict(list))
    answered: set[str] = field(default_factory=set)
    calls: list[Sent] = field(default_factory=list)
    _events: dict[int, asyncio.Event] = field(default_factory=dict)

    def __call__(self, sent: Sent) -> None:
        self.calls.append(sent)
        if sent.method == "answerCallbackQuery":
            self.answered.add(str(sent.params.get("callback_query_id")))
        elif sent.chat_id is not None:
            self.by_chat[sent.chat_id].append(sent)
            self._events.setdefault(sent.chat_id, asyncio.Event()).set()

    def count(self, chat_id: int) -> int:
        return len(self.by_chat.get(chat_id, ()))

    async def until(self, chat_id: int, count: int, wait: float = REPLY_WAIT) -> bool:
        """Wait until `chat_id` has received `count` messages in all; False when it did not in time."""
        deadline = time.monotonic() + wait
        while self.count(chat_id) < count:
            event = self._events.setdefault(chat_id, asyncio.Event())
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return self.count(chat_id) >= count
        return True


@dataclass
class Findings:
    """Failures by class, with the update that caused each (the seed replays them)."""

    seen: Counter[str] = field(default_factory=Counter)
    failed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    failed_updates: set[int] = field(default_factory=set)

    def fail(self, step: Step, reason: str) -> None:
        if step.update["update_id"] in self.failed_updates:
            return
        self.failed_updates.add(step.update["update_id"])
        self.failed[step.kind].append(f"{reason}: {json.dumps(step.update, ensure_ascii=True)[:400]}")

    def report(self) -> str:
        lines = ["updates not handled as their class requires:"]
        for kind, problems in sorted(self.failed.items()):
            lines.append(f"  {kind}: {len(problems)} of {self.seen[kind]} failed, e.g. {problems[0]}")
        return "\n".join(lines)


class ErrorHandlerCalls:
    """A second error handler next to the bot's own: every exception a handler raised, with its update."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, BaseException | None]] = []

    async def __call__(self, update: object, context: Any) -> None:
        self.calls.append((update, context.error))


async def feed(bot: RunningBot, update: dict[str, Any]) -> None:
    """Hand one update to the application as polling would: decoded from JSON, in its chat's turn."""
    application = bot.application
    decoded = Update.de_json(json.loads(json.dumps(update)), application.bot)
    await application.update_processor.process_update(decoded, application.process_update(decoded))


def relay_messages(message: dict[str, Any]) -> int:
    """How many messages the volunteer gets for one of the user's: a copy, preceded by a label when the
    kind cannot carry a caption."""
    kind = next((k for k in KINDS if message.get(k)), "other")
    return 1 if kind == "text" or kind in CAPTIONED else 2


async def run_step(bot: RunningBot, recorder: Recorder, findings: Findings, user_id: int, step: Step,
                   relay_to: int | None = None, relay_expected: int = 0) -> None:
    """Feed one update and check it was handled as its class requires."""
    findings.seen[step.kind] += 1
    chat = watched_chat(step.update, user_id)
    before = {watched: recorder.count(watched) for watched in {user_id, chat}}
    await feed(bot, step.update)
    if step.expect == "reply":
        if not await recorder.until(chat, before[chat] + 1):
            findings.fail(step, "no reply")
    elif step.expect == "answer":
        query = callback_id(step.update)
        if query not in recorder.answered:
            findings.fail(step, "button press not answered")
    elif step.expect == "relay":
        assert relay_to is not None
        if not await recorder.until(relay_to, relay_expected):
            findings.fail(step, "not relayed to the volunteer")
    elif any(recorder.count(watched) != count for watched, count in before.items()) \
            or callback_id(step.update) in recorder.answered:
        findings.fail(step, "answered, though ignored on purpose")


async def hold(bot: RunningBot, recorder: Recorder, fake: FakeTelegram, case: Case) -> None:
    """Queue the case's user and let the volunteer take the case."""
    user = case.steps[0].update["message"]["from"]
    offered = {data for sent in recorder.by_chat[VOLUNTEER] for _, data in sent.buttons}
    await feed(bot, fake.message_update(user["id"], "/human", language_code="en"))

    def offer() -> str | None:
        return next((data for sent in recorder.by_chat[VOLUNTEER] for _, data in sent.buttons
                     if data.startswith("o:take:") and data not in offered), None)

    while offer() is None:
        assert await recorder.until(VOLUNTEER, recorder.count(VOLUNTEER) + 1), "the volunteer was not offered the case"
    take = offer()
    assert take is not None
    holding = recorder.count(VOLUNTEER)
    await feed(bot, fake.callback_update(VOLUNTEER, take, language_code="en"))
    assert await recorder.until(VOLUNTEER, holding + 1), "the volunteer could not take the case"
    await asyncio.sleep(0.3)  # the card with the last exchanges, if any


async def run_held(bot: RunningBot, recorder: Recorder, fake: FakeTelegram, findings: Findings, case: Case) -> None:
    """A held case: each of the user's messages must reach the volunteer; then the volunteer closes it."""
    await hold(bot, recorder, fake, case)
    for step in case.steps:
        expected = recorder.count(VOLUNTEER) + relay_messages(step.update["message"])
        await run_step(bot, recorder, findings, case.user_id, step, VOLUNTEER, expected)
    await feed(bot, fake.message_update(VOLUNTEER, "/close", language_code="en"))
    await recorder.until(case.user_id, recorder.count(case.user_id) + 1)


async def run_all(bot: RunningBot, recorder: Recorder, findings: Findings, cases: list[Case]) -> None:
    """Every case, `WORKERS` chats at once, each chat's updates in order."""
    queue: asyncio.Queue[Case] = asyncio.Queue()
    for case in cases:
        queue.put_nowait(case)

    async def worker() -> None:
        while not queue.empty():
            case = queue.get_nowait()
            for step in case.steps:
                await run_step(bot, recorder, findings, case.user_id, step)

    await asyncio.gather(*(worker() for _ in range(WORKERS)))


@pytest.fixture
async def fuzzed_bot(engine_url: str, make_settings: Callable[..., Settings], database_url: str
                     ) -> AsyncIterator[tuple[FakeTelegram, RunningBot]]:
    # A patient engine client: under the fuzz's load an apology for a slow engine would hide what the
    # engine does with the text (the test asserts that every text got through it).
    async with running_bot(make_settings, engine_url, DATABASE_URL=database_url, ENGINE_TIMEOUT="15") as running:
        yield running


async def test_ten_thousand_hostile_updates_are_each_answered_or_ignored_on_purpose_and_never_rendered_as_markup(
        fuzzed_bot: tuple[FakeTelegram, RunningBot], database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    fake, bot = fuzzed_bot
    caplog.set_level(logging.WARNING)
    updates = UPDATES if database_url.startswith("sqlite") else UPDATES // 5
    cases = list(Generator(SEED, text_share=TEXT_SHARE).cases(updates, sequences=0.04))
    total = sum(len(case.steps) for case in cases)
    assert total >= updates
    errors = ErrorHandlerCalls()
    bot.application.add_error_handler(errors)
    await register(fake, bot, VOLUNTEER, "Lina")

    recorder = Recorder()
    fake.listener = recorder
    fake.keep_sent = False  # the recorder indexes what the bot sends
    findings = Findings()
    started = time.monotonic()
    for case in (case for case in cases if case.held):
        await run_held(bot, recorder, fake, findings, case)
    await feed(bot, fake.message_update(VOLUNTEER, "/offline", language_code="en"))
    await run_all(bot, recorder, findings, [case for case in cases if not case.held])
    elapsed = time.monotonic() - started
    await asyncio.sleep(1.0)  # anything still in the outbox arrives; ignored chats must stay silent

    for case in cases:
        for step in case.steps:
            if step.expect == "ignored" and (recorder.count(watched_chat(step.update, case.user_id))
                                             or recorder.count(case.user_id)):
                findings.fail(step, "a message arrived later, though ignored on purpose")
    markup = [sent for sent in recorder.calls if any(key in sent.params for key in MARKUP_PARAMETERS)]
    logged_errors = [f"{record.name}: {record.getMessage()}" for record in caplog.records
                     if record.levelno >= logging.ERROR]
    engine_failures = [record for record in caplog.records if "engine failed" in record.getMessage()]
    texts = sum(count for kind, count in findings.seen.items() if kind.startswith(("text.", "edited.")))
    print(f"\nfuzz seed {SEED}: {total} updates ({texts} texts) in {elapsed:.1f} s, {total / elapsed:.0f} updates/s, "
          f"{len(recorder.calls)} Bot API calls; classes: {dict(sorted(findings.seen.items()))}")

    problems = [
        *([f"{len(errors.calls)} exceptions reached the error handler, e.g.:"] if errors.calls else []),
        *(f"  {type(error).__name__}: {str(error)[:300]} on {_short(update)}" for update, error in errors.calls[:5]),
        *(f"logged: {line}" for line in logged_errors[:5]),
        *([f"{len(engine_failures)} texts did not get through the engine"] if engine_failures else []),
        *([findings.report()] if findings.failed else []),
        *(f"markup requested: {_short(sent.params)}" for sent in markup[:3]),
        *(f"Telegram refused {sent.method}: {_short(sent.params)}" for sent in fake.refused[:5]),
    ]
    assert not problems, f"fuzz seed {SEED} (replay with FUZZ_SEED={SEED}):\n" + "\n".join(problems)
    kinds = {re.sub(r"\..*", "", kind) for kind in findings.seen}
    assert {"text", "command", "callback", "message", "edited", "service", "update", "relay"} <= kinds


def _short(value: object) -> str:
    if isinstance(value, Update):
        value = value.to_dict()
    return json.dumps(value, ensure_ascii=True, default=str)[:300]
