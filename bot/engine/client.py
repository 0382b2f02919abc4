"""HTTP client of the Rasa engine.

Each message is one call to the engine's own input channel (engine/channel.py), which parses it
once, runs the dialogue and returns the intent, its confidence and ranking, and the replies; Rasa's
REST channel would return the replies only. The engine's tracker store keeps the intent, never the
user's words. `parse` (the HTTP API's /model/parse, no conversation) serves the classify command.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx

from bot.errors import EngineProtocolError, EngineUnavailable

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
MAX_PARSE_CHARS = 1000  # long messages: the opening carries the question
_INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Turn:
    """What the engine understood of a message and what it decided to say (custom payloads)."""

    parse: Parse
    payloads: list[dict[str, Any]]


@dataclass(frozen=True)
class Parse:
    """What the engine understood of a message."""

    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]

    @property
    def understood(self) -> bool:
        return self.intent != FALLBACK_INTENT

    def best_topic(self) -> tuple[str, float]:
        """The most likely real topic, even when the fallback classifier stepped in."""
        for name, confidence in self.ranking:
            if name != FALLBACK_INTENT:
                return name, confidence
        return self.intent, self.confidence


class EngineClient:
    """Talks to one Rasa server over HTTP with timeouts; every failure is an EngineError."""

    def __init__(
        self, base_url: str, token: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._token = token
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)),
            transport=transport,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def parse(self, text: str) -> Parse:
        """Classify `text`. A leading "/" is dropped so user text can never name an intent."""
        body = await self._post("/model/parse", {"text": _user_text(text)}, params={"token": self._token})
        try:
            intent = body["intent"]
            ranking = tuple(
                (str(item["name"]), float(item["confidence"])) for item in body.get("intent_ranking", [])
            )
            return Parse(str(intent["name"]), float(intent["confidence"]), ranking)
        except (KeyError, TypeError, ValueError) as exc:
            raise EngineProtocolError(f"unexpected parse response: {type(exc).__name__}") from exc

    async def message(self, sender: str, *, text: str | None = None, intent: str | None = None) -> Turn:
        """One turn of `sender`'s conversation: their `text`, or an `intent` chosen by a button."""
        if (text is None) == (intent is None):
            raise ValueError("give either text or intent")
        if intent is not None and not _INTENT_NAME.match(intent):
            raise ValueError(f"not an intent name: {intent!r}")
        payload: dict[str, str] = {"sender": sender}
        if text is not None:
            payload["text"] = _user_text(text)
        else:
            payload["intent"] = str(intent)
        body = await self._post("/webhooks/assistant/message", payload,
                                headers={"Authorization": f"Bearer {self._token}"})
        try:
            if not isinstance(body["intent"], str) or not _INTENT_NAME.match(body["intent"]):
                raise ValueError("intent")
            parse = Parse(
                body["intent"],
                float(body["confidence"]),
                tuple((str(name), float(confidence)) for name, confidence in body.get("ranking", [])),
            )
            messages = body["messages"]
            if not isinstance(messages, list):
                raise TypeError("messages")
        except (KeyError, TypeError, ValueError) as exc:
            raise EngineProtocolError(f"unexpected channel response: {type(exc).__name__}") from exc
        payloads = []
        for message in messages:
            custom = message.get("custom") if isinstance(message, dict) else None
            if isinstance(custom, dict):
                payloads.append(custom)
            else:
                logger.warning("engine sent a reply without a custom payload; ignored")
        return Turn(parse, payloads)

    async def model_file(self) -> str | None:
        """The file name of the model the engine has loaded, or None."""
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._http.get("/status", params={"token": self._token})
            body = response.json() if response.status_code == 200 else None
            name = body.get("model_file") if isinstance(body, dict) else None
            return str(name) if name else None
        except (httpx.HTTPError, ValueError, TimeoutError):
            return None

    async def ready(self) -> bool:
        """Whether the server answers and has a model loaded."""
        return await self.model_file() is not None

    async def _post(self, path: str, payload: dict[str, Any], params: dict[str, str] | None = None,
                    headers: dict[str, str] | None = None) -> Any:
        try:
            # One deadline for the whole call: httpx's timeouts apply to each phase (connect, each read),
            # so an engine that trickles its answer would otherwise hold the user indefinitely.
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(path, json=payload, params=params, headers=headers)
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise EngineUnavailable(f"engine timed out on {path}") from exc
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"engine unreachable on {path}: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code in (408, 409, 429):
            raise EngineUnavailable(f"engine answered {response.status_code} on {path}")
        if response.status_code != 200:
            raise EngineProtocolError(f"engine answered {response.status_code} on {path}")
        try:
            return response.json()
        except ValueError as exc:
            raise EngineProtocolError(f"engine sent invalid JSON on {path}") from exc


def _user_text(text: str) -> str:
    """What the engine may read of a message: never a leading "/" (Rasa's intent syntax), bounded."""
    return text.lstrip().lstrip("/")[:MAX_PARSE_CHARS]
