"""An interactive console chat through the same pipeline as Telegram: buttons become numbers.

For newcomers trying the assistant, editors previewing content, and tests (it reads standard
input line by line, so it can be scripted).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator
from typing import TextIO

from bot.callbacks import ButtonAction, decode
from bot.conversation import User
from bot.editors.preview import previews
from bot.handoff.senders import ConsoleSender
from bot.outgoing import Button
from bot.replies import Said
from bot.services import Services, open_services
from bot.settings import Settings
from bot.shutdown import cancel_on_termination

CONSOLE_USER = "console"
CONSOLE_CHAT_ID = -1  # not a Telegram chat: the handoff outbox prints what is addressed to it
QUIT = {"/quit", "/exit", "/q"}


class ConsoleChat:
    """One console user chatting with the assistant."""

    def __init__(self, services: Services, out: TextIO) -> None:
        self.services = services
        self.out = out
        hint = (os.environ.get("LANG") or "").split(".")[0] or None
        self.user: User = services.user(f"{CONSOLE_USER}:{os.getuid()}", hint, chat_id=CONSOLE_CHAT_ID)
        self.choices: list[Button] = []
        self.sender = ConsoleSender(out, CONSOLE_CHAT_ID, on_buttons=self.number_buttons)

    def number_buttons(self, rows: list[list[list[str]]]) -> None:
        """Number the buttons of a handoff message, as for every other message."""
        services = self.services
        buttons = []
        for label, data in (item for row in rows for item in row):
            action = decode(data, topics=frozenset(services.knowledge.topics), languages=services.languages.codes)
            if action is not None:
                buttons.append(Button(label, action))
        self.choices = buttons
        for number, button in enumerate(buttons, 1):
            print(f"  {number}) {button.label}", file=self.out)
        print("", file=self.out, flush=True)

    async def handle(self, line: str) -> None:
        """Answer one line typed by the user, with the knowledge base as its files are now."""
        line = line.strip()
        if not line:
            return
        if self.services.reloader.files_changed() or line.lower() == "/reload":
            await self.reload()
            if line.lower() == "/reload":
                return
        if line.lower().startswith("/preview"):
            self.preview(line.split()[1:])
            return
        await self.show(self._replies(line))
        await self.flush_outbox()

    async def reload(self) -> None:
        """Reload the editors' files; say what changed, or why the previous content is still used."""
        report = await self.services.reload_content()
        if report.applied:
            print(f"\n↻ Content reloaded: {'; '.join(report.changed) or 'no change'}.", file=self.out)
            if report.retrain_needed:
                print("  Topics or example questions changed: run `make train` and restart to use them.",
                      file=self.out)
        else:
            print("\n⚠ Not reloaded: the files have errors; still using the previous content.", file=self.out)
            for problem in report.problems:
                print(f"  {problem}", file=self.out)
        print("", file=self.out, flush=True)

    def preview(self, args: list[str]) -> None:
        """/preview TOPIC|FLOW [LANG|all]: draw it as Telegram shows it."""
        renderer = self.services.renderer
        codes = list(self.services.languages.codes)
        if not args:
            print("\n/preview TOPIC or FLOW [language|all], e.g. /preview rights_detention ar\n", file=self.out)
            return
        languages = codes if args[1:2] == ["all"] else [args[1]] if len(args) > 1 else ["en"]
        if any(code not in codes for code in languages):
            print(f"\nThis deployment speaks {', '.join(codes)}.\n", file=self.out)
            return
        try:
            for drawing in previews(renderer, args[0], languages):
                print(f"\n{drawing}", file=self.out)
        except KeyError:
            print(f"\n{args[0]!r} is neither a topic nor a flow.", file=self.out)
        print("", file=self.out, flush=True)

    async def flush_outbox(self) -> None:
        """Print what the handoff queued for this chat (the queue's acknowledgement) before the next prompt."""
        dispatcher = self.services.handoff.dispatcher
        if dispatcher is not None:
            while await dispatcher.deliver_due():
                pass

    def _replies(self, line: str) -> AsyncIterator[Said]:
        conversation = self.services.conversation
        if line.isdigit() and self.choices and 1 <= int(line) <= len(self.choices):
            action = self.choices[int(line) - 1].action
            if action.kind == "handoff":
                return self._handoff_button(action.value)
            return conversation.on_button(self.user, action)
        if line.startswith("/"):
            command = line.split()[0].lower()
            simple = {"/start": "welcome", "/help": "help", "/privacy": "privacy", "/forget": "forget_confirm"}
            if command in simple:
                return conversation.notice(self.user, simple[command])  # type: ignore[arg-type]
            if command == "/menu":
                return conversation.on_button(self.user, ButtonAction("menu"))
            if command == "/language":
                return conversation.on_button(self.user, ButtonAction("languages"))
            if command == "/human":
                return conversation.on_button(self.user, ButtonAction("human"))
            if command == "/cancel":
                return self._handoff_button("leave")
            if command == "/report":
                return self._handoff_button("report")
            if command == "/location":
                located = _coordinates(line.partition(" ")[2])
                if located is not None:
                    return conversation.on_location(self.user, *located)
            return conversation.notice(self.user, "unknown_command", command=command[:32])
        return conversation.on_text(self.user, line)

    async def _handoff_button(self, value: str) -> AsyncIterator[Said]:
        """Leave the queue, rate or report: the answers come through the handoff outbox."""
        queue = self.services.handoff.queue
        language = await self.services.conversation.language_of(self.user)
        name, _, rest = value.partition(":")
        if name == "leave":
            await queue.cancel(self.user.key, language, CONSOLE_CHAT_ID)
        elif name == "rate":
            case_id, _, stars = rest.partition(":")
            await queue.rate(self.user.key, int(case_id), int(stars))
        elif name == "report":
            await queue.report(self.user.key, int(rest) if rest else None, language, CONSOLE_CHAT_ID)
        return
        yield  # an async generator that says nothing itself

    async def show(self, replies: AsyncIterator[Said]) -> None:
        async for said in replies:
            outgoing = self.services.renderer.render(said)
            buttons = [button for row in outgoing.buttons for button in row]
            print(f"\n{outgoing.text}", file=self.out)
            typed = [key.label for row in outgoing.keyboard for key in row if not key.request_location]
            if outgoing.keyboard:
                print(f"  (write {', '.join(typed) or 'your city'}, or share a location: /location 41.01,28.97)",
                      file=self.out)
            if buttons:
                self.choices = buttons
                for number, button in enumerate(buttons, 1):
                    print(f"  {number}) {button.label}", file=self.out)
        print("", file=self.out, flush=True)


async def run_console(settings: Settings, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    """Chat in the terminal until end of input, /quit or SIGTERM."""
    cancel_on_termination()
    async with open_services(settings) as services:
        chat = ConsoleChat(services, out)
        services.handoff.start(chat.sender)
        services.retention.start()
        interactive = stdin.isatty()
        if interactive:
            print("Type your question in any language. Numbers choose a button; /language, /menu, "
                  "/help; /quit to leave.", file=out)
            print("Editors: changes to knowledge_base/ show at your next message; /preview TOPIC LANG draws "
                  "an answer as Telegram shows it.", file=out)
        await chat.show(services.conversation.notice(chat.user, "welcome"))
        lines = LineReader(stdin, "> " if interactive else "")
        while True:
            line = await lines.next()
            if line is None or line.strip().lower() in QUIT:
                break
            await chat.handle(line)


def _coordinates(text: str) -> tuple[float, float] | None:
    """'41.01,28.97' -> (41.01, 28.97); None if that is not a latitude and longitude."""
    try:
        latitude, longitude = (float(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        return None
    return (latitude, longitude) if -90 <= latitude <= 90 and -180 <= longitude <= 180 else None


class LineReader:
    """Reads standard input in a daemon thread, so a blocked read never delays shutdown.

    The thread prompts only when the chat asks for the next line, so the prompt follows the answer.
    """

    def __init__(self, stdin: TextIO, prompt: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._wanted = threading.Event()
        self._stdin = stdin
        self._prompt = prompt
        threading.Thread(target=self._read, name="console-input", daemon=True).start()

    async def next(self) -> str | None:
        """The next line, or None at the end of input."""
        self._wanted.set()
        return await self._lines.get()

    def _read(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                line = input(self._prompt) if self._prompt else (self._stdin.readline() or None)
            except EOFError:
                line = None
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            if line is None:
                return
