"""A small fake of the Telegram Bot API over HTTP, for end-to-end tests of the real bot.

python-telegram-bot talks to it through its `base_url`, exactly as it talks to Telegram: the
tests push updates into getUpdates and read what the bot sent with sendMessage and friends.
Like Telegram, getUpdates hands out an update again until a later call's `offset` confirms it,
the documented limits are enforced (4096 characters of text, 1024 of a caption, 64 bytes of
button data: "Bad Request"), and a test can make calls fail (`fail`, `fail_next`) or hang (`stall`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Refuge Assistant", "username": "refuge_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}


@dataclass
class Sent:
    """A call the bot made (sendMessage, editMessageText, answerCallbackQuery, ...)."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]

    @property
    def keyboard(self) -> list[dict[str, Any]]:
        """The reply-keyboard buttons (text, request_location), row after row."""
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [button for row in markup.get("keyboard", []) for button in row]


class FakeTelegram:
    """The fake server: start(), push updates, wait for the bot's messages, stop()."""

    def __init__(self, token: str = "123456:TEST-token") -> None:
        self.token = token
        # Updates not yet confirmed by an `offset`: getUpdates returns them again until they are.
        self.updates: list[dict[str, Any]] = []
        self._updates_changed = asyncio.Condition()
        self.fetched: list[int] = []  # update ids in the order getUpdates returned them (repeats included)
        self.sent: list[Sent] = []
        self._sent_event = asyncio.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Called with every method call the bot makes (benchmarks time replies with it).
        self.listener: Callable[[Sent], None] | None = None
        self.keep_sent = True
        # Errors to answer the next calls to a chat with: (error_code, description, retry_after or None).
        self.failures: dict[int, list[tuple[int, str, int | None]]] = {}
        # Errors to answer the next calls of a method with (`fail`), and calls to answer late (`stall`).
        self.method_failures: dict[str, list[tuple[int, str, int | None, int | None]]] = {}
        self.stalls: dict[str, list[tuple[float, bool, int | None]]] = {}
        self.refused: list[Sent] = []
        self.enforce_limits = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests call ----------------------------------------------------------------------

    def user(self, user_id: int, language_code: str | None = None) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        if language_code:
            user["language_code"] = language_code
        return user

    def message_update(self, user_id: int, text: str | None = None, *, language_code: str | None = None,
                       chat_type: str = "private", edited: bool = False, **content: Any) -> dict[str, Any]:
        chat = {"id": user_id if chat_type == "private" else -100 - user_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "A group"
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": chat, "from": self.user(user_id, language_code), **content}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if edited:
            message["edit_date"] = int(time.time())
        return {"update_id": next(self._update_ids), "edited_message" if edited else "message": message}

    def callback_update(self, user_id: int, data: str, *, language_code: str | None = None) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), "callback_query": {
            "id": f"cb{next(self._message_ids)}", "from": self.user(user_id, language_code),
            "chat_instance": "ci", "data": data,
            "message": {"message_id": next(self._message_ids), "date": int(time.time()),
                        "chat": {"id": user_id, "type": "private"}, "text": "menu"}}}

    async def push(self, update: dict[str, Any]) -> None:
        async with self._updates_changed:
            self.updates.append(update)
            self._updates_changed.notify_all()

    def messages_to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.method == "sendMessage" and s.chat_id == chat_id]

    def delivered_to(self, chat_id: int) -> list[Sent]:
        """Every new message in a chat: sent, or copied from another chat (copies carry `from_chat_id`)."""
        return [s for s in self.sent if s.method in {"sendMessage", "copyMessage"} and s.chat_id == chat_id]

    def edits_in(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.method == "editMessageText" and s.chat_id == chat_id]

    async def wait_until(self, condition: Callable[[], bool], wait: float = 20.0) -> None:
        """Wait until `condition()` holds for what the bot has sent."""
        async with self._sent_event:
            await asyncio.wait_for(self._sent_event.wait_for(condition), wait)

    def fail_next(self, chat_id: int, code: int, description: str, retry_after: int | None = None) -> None:
        """Answer the bot's next call to `chat_id` with an error, as Telegram does."""
        self.failures.setdefault(chat_id, []).append((code, description, retry_after))

    def fail(self, method: str, code: int, description: str, *, times: int = 1, retry_after: int | None = None,
             chat_id: int | None = None) -> None:
        """Answer the next `times` calls of `method` (to `chat_id` only, when given) with a Telegram error.

        For example 429 "Too Many Requests: retry after 2" with `retry_after=2`, 403 "Forbidden: bot was
        blocked by the user", 400 "Bad Request: message is too long" or "Bad Request: BUTTON_DATA_INVALID".
        """
        self.method_failures.setdefault(method, []).extend([(code, description, retry_after, chat_id)] * times)

    def stall(self, method: str, seconds: float, *, times: int = 1, delivered: bool = True,
              chat_id: int | None = None) -> None:
        """Answer the next `times` calls of `method` (to `chat_id` only, when given) after `seconds`.

        Longer than the client waits, that is a timeout. `delivered`: Telegram carried the call out
        and only its answer is late (a client that retries sends it twice); otherwise the call never
        reached Telegram.
        """
        self.stalls.setdefault(method, []).extend([(seconds, delivered, chat_id)] * times)

    async def wait_for_messages(self, chat_id: int, count: int, wait: float = 20.0) -> list[Sent]:
        """Wait until the bot has sent `count` messages to `chat_id` in all; return them."""
        async with self._sent_event:
            await asyncio.wait_for(
                self._sent_event.wait_for(lambda: len(self.messages_to(chat_id)) >= count), wait)
        return self.messages_to(chat_id)

    async def say(self, update: dict[str, Any], *, expect: int = 1, wait: float = 20.0) -> list[Sent]:
        """Push an update and return the messages the bot sent in answer to it."""
        message = (update.get("message") or update.get("edited_message")
                   or update.get("callback_query", {}).get("message"))
        chat_id = int(message["chat"]["id"])
        before = len(self.messages_to(chat_id))
        await self.push(update)
        await self.wait_for_messages(chat_id, before + expect, wait)
        await asyncio.sleep(0.3)  # let any further message of the same answer arrive
        return self.messages_to(chat_id)[before:]

    # --- the Bot API ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        chat = params.get("chat_id")
        chat_id = int(chat) if chat is not None and str(chat).lstrip("-").isdigit() else None
        pending = self.failures.get(chat_id) if chat_id is not None else None
        failure = pending.pop(0) if pending else (self._method_failure(method, chat_id) or self._over_limit(params)
                                                     or self._refused_text(method, params))
        if failure:
            code, description, retry_after = failure
            error: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
            if retry_after is not None:
                error["parameters"] = {"retry_after": retry_after}
            self.refused.append(Sent(method, params))
            return web.json_response(error, status=code)
        stall, delivered = self._stall(method, chat_id)
        if not delivered:
            self.refused.append(Sent(method, params))
            await asyncio.sleep(stall)
            return web.json_response({"ok": False, "error_code": 504, "description": "Gateway Timeout"}, status=504)
        result = self._answer(method, params)
        sent = Sent(method, params)
        if self.listener is not None:
            self.listener(sent)
        if self.keep_sent:
            async with self._sent_event:
                self.sent.append(sent)
                self._sent_event.notify_all()
        if stall:
            await asyncio.sleep(stall)  # carried out, but the answer comes after the client gave up
        return web.json_response({"ok": True, "result": result})

    def _stall(self, method: str, chat_id: int | None) -> tuple[float, bool]:
        planned = self.stalls.get(method, [])
        for index, (seconds, delivered, only_chat) in enumerate(planned):
            if only_chat is None or only_chat == chat_id:
                del planned[index]
                return seconds, delivered
        return 0.0, True

    def _method_failure(self, method: str, chat_id: int | None) -> tuple[int, str, int | None] | None:
        planned = self.method_failures.get(method, [])
        for index, (code, description, retry_after, only_chat) in enumerate(planned):
            if only_chat is None or only_chat == chat_id:
                del planned[index]
                return code, description, retry_after
        return None

    def _over_limit(self, params: dict[str, Any]) -> tuple[int, str, int | None] | None:
        """Telegram's documented limits, answered as Telegram answers them."""
        if not self.enforce_limits:
            return None
        if _utf16_length(str(params.get("text") or "")) > 4096:
            return 400, "Bad Request: message is too long", None
        if _utf16_length(str(params.get("caption") or "")) > 1024:
            return 400, "Bad Request: message caption is too long", None
        markup = params.get("reply_markup") or {}
        markup = json.loads(markup) if isinstance(markup, str) else markup
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    return 400, "Bad Request: BUTTON_DATA_INVALID", None
        return None

    def _refused_text(self, method: str, params: dict[str, Any]) -> tuple[int, str, int | None] | None:
        """An empty message, or a button answer over Telegram's 200 characters."""
        if not self.enforce_limits:
            return None
        text = params.get("text")
        if method in {"sendMessage", "editMessageText"} and not str(text or "").strip():
            return 400, "Bad Request: message text is empty", None
        if method == "answerCallbackQuery" and _utf16_length(str(text or "")) > 200:
            return 400, "Bad Request: MESSAGE_TOO_LONG", None
        return None

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        data = await request.post()
        params: dict[str, Any] = {}
        for key, value in data.items():
            if key in {"text", "caption"}:  # what people read is never JSON, even when it looks like it
                params[key] = value
                continue
            try:
                params[key] = json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value
            except json.JSONDecodeError:
                params[key] = value
        return params

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Confirm the updates below `offset`; return the others, waiting up to `timeout` for one (long polling)."""
        timeout = float(params.get("timeout", 0) or 0)
        offset = int(params.get("offset", 0) or 0)
        limit = int(params.get("limit", 100) or 100)
        async with self._updates_changed:
            if offset > 0:
                self.updates = [update for update in self.updates if update["update_id"] >= offset]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._updates_changed.wait_for(lambda: bool(self.updates)),
                                       max(timeout, 0.05))
            batch = self.updates[:limit]
        self.fetched += [update["update_id"] for update in batch]
        return batch

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in {"sendMessage", "editMessageText"}:
            chat_id = int(params.get("chat_id", 0))
            result = {"message_id": next(self._message_ids), "date": int(time.time()),
                      "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER,
                      "text": params.get("text", "")}
            markup = params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup
            if markup and "inline_keyboard" in markup:  # Telegram returns inline keyboards only
                result["reply_markup"] = markup
            return result
        if method == "copyMessage":
            return {"message_id": next(self._message_ids)}
        return True  # answerCallbackQuery, setMyCommands, deleteWebhook, ...


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@contextlib.asynccontextmanager
async def bot_on_fake_telegram(make_settings: Callable[..., Any], **overrides: str) -> AsyncIterator[FakeTelegram]:
    """The real application polling a fake Bot API server, with settings overridden by `overrides`."""
    from bot.app import build_application

    fake = FakeTelegram()
    await fake.start()
    settings = make_settings(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.base_url, **overrides)
    application: Any = build_application(settings)
    await application.initialize()
    await application.post_init(application)
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    await application.start()
    try:
        yield fake
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)
        await fake.stop()
