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

from bot.callbacks import ButtonAction
from bot.conversation import User
from bot.rendering import Button
from bot.replies import Said
from bot.services import Services, open_services
from bot.settings import Settings
from bot.shutdown import cancel_on_termination

CONSOLE_USER = "console"
QUIT = {"/quit", "/exit", "/q"}


class ConsoleChat:
    """One console user chatting with the assistant."""

    def __init__(self, services: Services, out: TextIO) -> None:
        self.services = services
        self.out = out
        hint = (os.environ.get("LANG") or "").split(".")[0] or None
        self.user: User = services.user(f"{CONSOLE_USER}:{os.getuid()}", hint)
        self.choices: list[Button] = []

    async def handle(self, line: str) -> None:
        """Answer one line typed by the user."""
        line = line.strip()
        if not line:
            return
        await self.show(self._replies(line))

    def _replies(self, line: str) -> AsyncIterator[Said]:
        conversation = self.services.conversation
        if line.isdigit() and self.choices and 1 <= int(line) <= len(self.choices):
            return conversation.on_button(self.user, self.choices[int(line) - 1].action)
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
            return conversation.notice(self.user, "unknown_command", command=command[:32])
        return conversation.on_text(self.user, line)

    async def show(self, replies: AsyncIterator[Said]) -> None:
        async for said in replies:
            outgoing = self.services.renderer.render(said)
            buttons = [button for row in outgoing.buttons for button in row]
            print(f"\n{outgoing.text}", file=self.out)
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
        interactive = stdin.isatty()
        if interactive:
            print("Type your question in any language. Numbers choose a button; /language, /menu, "
                  "/help; /quit to leave.", file=out)
        await chat.show(services.conversation.notice(chat.user, "welcome"))
        lines = LineReader(stdin, "> " if interactive else "")
        while True:
            line = await lines.next()
            if line is None or line.strip().lower() in QUIT:
                break
            await chat.handle(line)


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
