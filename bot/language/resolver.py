"""Which language to answer a message in.

Order: the user's explicit choice > a reliable detection of the message > Telegram's
language_code > the conversation's previous language > the default. A short "ok", a number or
an emoji is never reliable, so it never changes the language of a conversation: once a
conversation has a language, an unreliable message keeps it, and Telegram's language_code (the
language of the user's phone menus, not of their writing) only opens a new conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.language.detection import LanguageDetector
from bot.language.registry import LanguageRegistry

Source = Literal["choice", "detected", "telegram", "previous", "guess", "default"]


@dataclass(frozen=True)
class Resolution:
    """The language to answer in, why, and an unsupported language the user seems to write."""

    language: str
    source: Source
    unsupported: str | None = None


class LanguageResolver:
    """Resolves the answer language of each message."""

    def __init__(self, registry: LanguageRegistry, detector: LanguageDetector, default: str) -> None:
        self.registry = registry
        self.detector = detector
        self.default = default if registry.get(default) else registry.codes[0]

    def resolve(
        self,
        text: str,
        *,
        chosen: str | None = None,
        telegram_hint: str | None = None,
        previous: str | None = None,
    ) -> Resolution:
        """Resolve the language for `text` given what is known about the user."""
        codes = self.registry.codes
        if chosen in codes:
            return Resolution(chosen, "choice")
        detection = self.detector.detect(text)
        hint = self.registry.normalise(telegram_hint)
        if detection.reliable and detection.language is not None:
            if detection.language in codes:
                return Resolution(detection.language, "detected")
            fallback = self._without_detection(hint, previous)
            return Resolution(fallback.language, fallback.source, unsupported=detection.language)
        if hint is None and previous not in codes:
            # A new user with no other clue: a weak guess still beats the default.
            guess = detection.best_of(codes)
            if guess is not None:
                return Resolution(guess, "guess")
        return self._without_detection(hint, previous)

    def _without_detection(self, hint: str | None, previous: str | None) -> Resolution:
        if previous in self.registry.codes:
            return Resolution(previous, "previous")
        if hint is not None:
            return Resolution(hint, "telegram")
        return Resolution(self.default, "default")
