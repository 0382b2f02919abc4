"""HTTP client of the Rasa engine: NLU parse through the HTTP API, dialogue through the REST channel.

The bot parses a message first (the REST channel does not return the intent or confidence), then
sends the engine the parsed intent as "/intent". That runs Rasa's dialogue policies without a
second NLU pass, and keeps the user's words out of the engine's tracker store. User text is never
sent in the "/intent" form: only intent names from the engine's own parse or the bot's buttons.
"""

from __future__ import annotations

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
        text = text.lstrip().lstrip("/")[:MAX_PARSE_CHARS]
        body = await self._post("/model/parse", {"text": text}, params={"token": self._token})
        try:
            intent = body["intent"]
            ranking = tuple(
                (str(item["name"]), float(item["confidence"])) for item in body.get("intent_ranking", [])
            )
            return Parse(str(intent["name"]), float(intent["confidence"]), ranking)
        except (KeyError, TypeError, ValueError) as exc:
            raise EngineProtocolError(f"unexpected parse response: {type(exc).__name__}") from exc

    async def send_intent(self, sender: str, intent: str) -> list[dict[str, Any]]:
        """Tell the engine that `sender` expressed `intent`; returns its custom payloads in order."""
        if not _INTENT_NAME.match(intent):
            raise ValueError(f"not an intent name: {intent!r}")
        body = await self._post("/webhooks/rest/webhook", {"sender": sender, "message": f"/{intent}"})
        if not isinstance(body, list):
            raise EngineProtocolError("the REST channel did not return a list")
        payloads = []
        for message in body:
            custom = message.get("custom") if isinstance(message, dict) else None
            if isinstance(custom, dict):
                payloads.append(custom)
            else:
                logger.warning("engine sent a reply without a custom payload; ignored")
        return payloads

    async def model_file(self) -> str | None:
        """The file name of the model the engine has loaded, or None."""
        try:
            response = await self._http.get("/status", params={"token": self._token})
            name = response.json().get("model_file") if response.status_code == 200 else None
            return str(name) if name else None
        except (httpx.HTTPError, ValueError):
            return None

    async def ready(self) -> bool:
        """Whether the server answers and has a model loaded."""
        return await self.model_file() is not None

    async def _post(self, path: str, payload: dict[str, Any], params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._http.post(path, json=payload, params=params)
        except httpx.TimeoutException as exc:
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
