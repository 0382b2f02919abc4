"""Reviewed phrase rules that recognise immediate danger before, and without, the engine.

The phrases live in knowledge_base/emergency/<lang>.yml. Every message is checked against the
phrases of every language (people in danger mix languages), after the normalisation below.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import ContentError

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_LATIN_MARKS = re.compile("[\u0300-\u036f]")
_LETTER_VARIANTS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ی": "ي", "ئ": "ي", "ة": "ه",
     "ۀ": "ه", "ک": "ك", "ؤ": "و"}
)
# A letter typed three times or more is one letter said with urgency ("helppp", "ساعدونييي").
_ELONGATED = re.compile(r"(.)\1{2,}")


def _word_char(char: str) -> bool:
    # Letters, digits and combining marks (Bengali vowel signs are marks, not separators).
    return unicodedata.category(char)[0] in "LNM" or char == "*"


def normalise(text: str) -> list[str]:
    """Lower-case words with diacritics, tatweel, elongations and letter variants folded."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = _LATIN_MARKS.sub("", _ARABIC_MARKS.sub("", text))
    text = unicodedata.normalize("NFC", text).translate(_LETTER_VARIANTS)
    text = _ELONGATED.sub(r"\1", "".join(char if _word_char(char) else " " for char in text))
    return text.split()


@dataclass(frozen=True)
class Phrase:
    """One danger phrase: its words, whether the last word is a prefix, and where it came from."""

    words: tuple[str, ...]
    prefix: bool
    language: str
    category: str

    def matches_at(self, words: list[str], start: int) -> bool:
        if start + len(self.words) > len(words):
            return False
        last = len(self.words) - 1
        for offset, word in enumerate(self.words):
            candidate = words[start + offset]
            if offset == last and self.prefix:
                if not candidate.startswith(word):
                    return False
            elif candidate != word:
                return False
        return True


@dataclass(frozen=True)
class EmergencyMatch:
    """Why a message was recognised as an emergency (never the message itself)."""

    language: str
    category: str


class EmergencyRules:
    """All languages' danger phrases, indexed by their first word."""

    def __init__(self, phrases: list[Phrase], alone: dict[tuple[str, ...], str] | None = None) -> None:
        self._alone = alone or {}
        self._by_first: dict[str, list[Phrase]] = defaultdict(list)
        self._prefix_first: list[Phrase] = []
        for phrase in phrases:
            if len(phrase.words) == 1 and phrase.prefix:
                self._prefix_first.append(phrase)
            else:
                self._by_first[phrase.words[0]].append(phrase)
        self.size = len(phrases)

    def replace(self, other: EmergencyRules) -> None:
        """Match `other`'s phrases from now on (a reload)."""
        self._alone, self._by_first, self._prefix_first, self.size = (
            other._alone, other._by_first, other._prefix_first, other.size)

    @classmethod
    def load(cls, folder: Path) -> EmergencyRules:
        """Read every knowledge_base/emergency/<lang>.yml."""
        phrases: list[Phrase] = []
        alone: dict[tuple[str, ...], str] = {}
        for path in sorted(folder.glob("*.yml")):
            phrases.extend(parse_phrase_file(path))
            alone.update(parse_alone_words(path))
        if not phrases:
            raise ContentError(f"{folder}: no emergency phrases found")
        return cls(phrases, alone)

    def match(self, text: str) -> EmergencyMatch | None:
        """The first danger phrase found in `text`, or None."""
        words = normalise(text)
        if tuple(words) in self._alone:
            return EmergencyMatch(self._alone[tuple(words)], "asked")
        for start, word in enumerate(words):
            for phrase in self._by_first.get(word, ()):
                if phrase.matches_at(words, start):
                    return EmergencyMatch(phrase.language, phrase.category)
            for phrase in self._prefix_first:
                if word.startswith(phrase.words[0]):
                    return EmergencyMatch(phrase.language, phrase.category)
        return None


def parse_alone_words(path: Path) -> dict[tuple[str, ...], str]:
    """Words that ask for the emergency answer when they are the whole message ("emergency", "SOS")."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    language = str(data.get("language", path.stem))
    folded = (tuple(normalise(str(word))) for word in data.get("alone") or ())
    return {words: language for words in folded if words}


def parse_phrase_file(path: Path) -> list[Phrase]:
    """The phrases of one language file; raises ContentError naming the file when malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        language = str(data["language"])
        categories = data["categories"]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise ContentError(f"{path}: not a valid emergency phrase file ({exc})") from exc
    phrases = []
    for category, entries in categories.items():
        for entry in entries or ():
            raw = str(entry).strip()
            prefix = raw.endswith("*")
            words = tuple(normalise(raw.rstrip("*")))
            if not words:
                raise ContentError(f"{path}: empty phrase in category {category!r}")
            phrases.append(Phrase(words, prefix, language, str(category)))
    return phrases
