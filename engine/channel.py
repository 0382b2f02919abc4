"""The engine's input channel for this bot: one call parses a message and runs the dialogue.

    POST /webhooks/assistant/message   Authorization: Bearer <ENGINE_TOKEN>
    {"sender": "<pseudonym>", "text": "..."}   or   {"sender": "<pseudonym>", "intent": "rights_work"}
 -> {"intent": "...", "confidence": 0.93, "ranking": [["...", 0.93], ...], "messages": [{"custom": {...}}]}

Rasa's REST channel returns the replies only, so the bot would need a second call for the intent
and confidence (and a "/intent" message still runs the whole NLU pipeline once more). Here the
message is parsed once and handed to the dialogue already parsed. The tracker stores the intent,
never the user's words. Text is never read as an intent name, whatever it starts with.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

MAX_TEXT = 1000


class AssistantInput(InputChannel):
    """Parse-and-answer in one call, authenticated with the engine token."""

    @classmethod
    def name(cls) -> str:
        return "assistant"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> AssistantInput:
        token = (credentials or {}).get("token")
        if not token:
            raise ValueError("the assistant channel needs a token in credentials.yml")
        return cls(str(token))

    def __init__(self, token: str) -> None:
        self.token = token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("assistant_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            supplied = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(supplied.encode(), self.token.encode()):
                return response.json({"error": "unauthorized"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            sender, text, intent = body.get("sender"), body.get("text"), body.get("intent")
            if not isinstance(sender, str) or not sender or (text is None) == (intent is None):
                return response.json({"error": "send a sender and either text or intent"}, status=400)
            agent = request.app.ctx.agent
            if intent is not None:
                if intent not in agent.domain.intents:
                    return response.json({"error": "unknown intent"}, status=400)
                parse = {"intent": {"name": intent, "confidence": 1.0}, "entities": [],
                         "intent_ranking": [{"name": intent, "confidence": 1.0}]}
            else:
                words = str(text).lstrip().lstrip("/")[:MAX_TEXT]
                parse = await agent.parse_message(words or " ")
            name = parse["intent"]["name"]
            stored = {"text": f"/{name}", "intent": parse["intent"], "entities": parse.get("entities") or [],
                      "intent_ranking": parse.get("intent_ranking") or []}
            collector = CollectingOutputChannel()
            await on_new_message(UserMessage(f"/{name}", collector, sender, parse_data=stored,
                                             input_channel=self.name()))
            return response.json({
                "intent": name,
                "confidence": parse["intent"].get("confidence", 0.0),
                "ranking": _ranking(parse),
                "messages": collector.messages,
            })

        return hook


def _ranking(parse: dict[str, Any]) -> list[list[Any]]:
    return [[item["name"], item["confidence"]] for item in parse.get("intent_ranking") or []]
