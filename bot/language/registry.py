"""The supported languages, as configured in knowledge_base/languages.yml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from babel import Locale

from bot.errors import ContentError


@dataclass(frozen=True)
class Language:
    """One language the assistant speaks."""

    code: str
    name: str
    native: str
    answers_complete: bool
    prior: float

    @property
    def rtl(self) -> bool:
        return Locale.parse(self.code).text_direction == "rtl"


@dataclass(frozen=True)
class LanguageRegistry:
    """The languages of this deployment, in menu order."""

    languages: tuple[Language, ...]

    @classmethod
    def load(cls, path: Path) -> LanguageRegistry:
        """Read languages.yml."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        languages = []
        for code, spec in raw.items():
            try:
                Locale.parse(code)
                languages.append(
                    Language(
                        code=code,
                        name=str(spec["name"]),
                        native=str(spec["native"]),
                        answers_complete=spec.get("answers") == "complete",
                        prior=float(spec.get("prior", 0.5)),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ContentError(f"{path}: language {code!r} is malformed ({exc})") from exc
        if not languages:
            raise ContentError(f"{path}: no language configured")
        return cls(tuple(languages))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(language.code for language in self.languages)

    def get(self, code: str | None) -> Language | None:
        """The language with this code, or None when it is not supported."""
        for language in self.languages:
            if language.code == code:
                return language
        return None

    def normalise(self, code: str | None) -> str | None:
        """Map a Telegram/IETF code ("pt-br", "ar_SY", "prs") to a supported code, or None."""
        if not code:
            return None
        base = code.replace("_", "-").split("-")[0].lower()
        base = {"prs": "fa", "pes": "fa", "pbu": "ps", "pbt": "ps", "som": "so"}.get(base, base)
        return base if base in self.codes else None
