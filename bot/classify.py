"""`python -m bot classify`: JSON lines in, one JSON line out per input, for evaluations.

Each line is treated as the first message of a new user (no stored choice, no Telegram hint),
through the same language resolver, danger phrases and trained model as the live bot. Only
JSON lines go to standard output; progress and errors go to standard error.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from bot.emergency import EmergencyRules
from bot.engine.client import EngineClient
from bot.engine.process import running_engine
from bot.errors import EngineError
from bot.language.resolver import LanguageResolver
from bot.services import build_resolver
from bot.settings import Settings
from bot.shutdown import cancel_on_termination


async def classify_line(
    line: str, resolver: LanguageResolver, emergency: EmergencyRules, engine: EngineClient
) -> dict[str, Any] | None:
    """The classification of one input line, or None for a blank line."""
    if not line.strip():
        return None
    try:
        item = json.loads(line)
        text = item["text"] if isinstance(item, dict) else None
    except json.JSONDecodeError:
        text = None
    if not isinstance(text, str):
        return {"text": None, "language": None, "topic": None, "confidence": 0.0,
                "error": 'each line must be a JSON object with a "text" string'}
    language = resolver.resolve(text).language
    if emergency.match(text) is not None:
        return {"text": text, "language": language, "topic": "emergency", "confidence": 1.0}
    if not text.strip():
        return {"text": text, "language": language, "topic": "out_of_scope", "confidence": 0.0}
    parse = await engine.parse(text)
    topic, confidence = parse.best_topic()
    return {"text": text, "language": language, "topic": topic, "confidence": round(confidence, 4)}


async def run_classify(settings: Settings, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Classify every line of `stdin`; returns the exit status."""
    cancel_on_termination()
    _, resolver = build_resolver(settings)
    emergency = EmergencyRules.load(settings.root / "knowledge_base" / "emergency")
    engine = EngineClient(settings.engine_url, settings.engine_token, max(settings.engine_timeout, 10.0))
    try:
        async with running_engine(settings, engine):
            for line in stdin:
                try:
                    result = await classify_line(line, resolver, emergency, engine)
                except EngineError as exc:
                    print(f"engine error: {exc}", file=sys.stderr)
                    return 1
                if result is not None:
                    out.write(json.dumps(result, ensure_ascii=False) + "\n")
                    out.flush()
    finally:
        await engine.close()
    return 0
