"""Language detection: script rules first, then langdetect restricted to plausible languages.

langdetect has no profile for Pashto, Amharic or Tigrinya, and confuses the Arabic-script
languages on short text; letters that only one language uses settle those cases before it runs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

# Letters only one language of the Arabic script uses (in everyday writing).
PASHTO_LETTERS = frozenset("ټډړږښګڼۍېځڅ")
URDU_LETTERS = frozenset("ٹڈڑںےۓ")
# Frequent function words of Tigrinya and Amharic (both written in Ge'ez script).
TIGRINYA_MARKERS = ("ኣ", "ናይ", "እዩ", "እየ", "ኣሎ", "ከመይ", "ኣብ", "ምስ", "ኢዩ", "ዝኾነ")
AMHARIC_MARKERS = ("አ", "ነው", "እኔ", "እንዴት", "አለ", "ምን", "ላይ", "ውስጥ", "ይህ", "እና")
# Every other language langdetect knows can be named as unsupported, with a low prior, so that a
# Spanish or Turkish message is told so instead of being answered in the nearest language we speak.
UNSUPPORTED_PRIOR_TOTAL = 0.5  # shared by all of them, against about 1 for each supported language
RELIABLE_PROBABILITY = 0.90
RELIABLE_MIN_LETTERS = 10
RELIABLE_MIN_WORDS = 2
# Saying "I do not speak your language" to someone who writes one of ours is worse than answering
# in a near one, so that verdict needs more text and more certainty.
UNSUPPORTED_MIN_WORDS = 4
UNSUPPORTED_MIN_LETTERS = 18
UNSUPPORTED_PROBABILITY = 0.97
# Arabic and Urdu are often typed in Latin letters: Arabizi uses digits for Arabic sounds
# (3 = ع, 7 = ح, 2 = ء, 5 = خ, 9 = ق), Roman Urdu has unmistakable function words.
ARABIZI_DIGIT_WORD = re.compile(r"^(?=.*[a-z])(?=.*[23579])[a-z23579']+$")
ROMANIZED_MARKERS = {
    "ar": frozenset(("ana enta inta enti inti bdi badi baddi 3ayez 3ayiz 3awez mesh mish shu shou eh kif kifak "
                     "keef lesh leh wein wen fi ma3 ya habibi salam aleikum alaikum inshallah wallah mafi "
                     "ahlan marhaba shukran shokran momken mumkin lazem lazim hal 3andi andi").split()),
    "ur": frozenset(("hai hain mujhe mera meri mere kya nahi nahin karun karna kaise kaisay chahiye chahye "
                     "mein main aap ap hum ho gaya gayi kar raha rahi ke ki ka se ko yeh woh kyun kyon "
                     "bhai madad koi kuch bohat bahut abhi").split()),
}
ROMANIZED_MIN_SHARE = 0.34

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Detection:
    """What a text's language looks like: ranked candidates and whether the evidence suffices."""

    ranking: tuple[tuple[str, float], ...]
    reliable: bool

    @property
    def language(self) -> str | None:
        return self.ranking[0][0] if self.ranking else None

    def best_of(self, codes: tuple[str, ...]) -> str | None:
        """The most likely language among `codes`, or None."""
        return next((code for code, _ in self.ranking if code in codes), None)


NO_LANGUAGE = Detection(ranking=(), reliable=False)


def script_of(char: str) -> str:
    """The Unicode script family of a letter, coarsely: arabic, latin, ethiopic, bengali, ..."""
    name = unicodedata.name(char, "")
    return name.split(" ")[0].lower() if name else ""


class LanguageDetector:
    """Detects the language of a message among the supported ones (and names unsupported ones)."""

    def __init__(self, supported: dict[str, float], seed: int = 0) -> None:
        """`supported` maps each supported language code to its prior."""
        self.supported = supported
        self._factory = _factory(seed)
        known = set(self._factory.get_lang_list())
        self._latin_priors = self._priors(known, exclude={"ar", "fa", "ur", "ps", "bn"})
        self._arabic_priors = {c: p for c, p in supported.items() if c in {"ar", "fa", "ur"} & known}

    def _priors(self, known: set[str], exclude: set[str]) -> dict[str, float]:
        others = [code for code in known if code not in exclude and code not in self.supported]
        priors = {code: UNSUPPORTED_PRIOR_TOTAL / len(others) for code in others}
        priors.update({c: p for c, p in self.supported.items() if c in known and c not in exclude})
        return priors

    def detect(self, text: str) -> Detection:
        """Detect the language of `text`."""
        words = _WORD.findall(text)
        letters = sum(len(word) for word in words)
        if not letters:
            return NO_LANGUAGE
        enough_text = letters >= RELIABLE_MIN_LETTERS and len(words) >= RELIABLE_MIN_WORDS
        scripts: dict[str, int] = {}
        for word in words:
            for char in word:
                family = script_of(char)
                scripts[family] = scripts.get(family, 0) + 1
        script = max(scripts, key=lambda family: scripts[family])
        joined = "".join(words)
        if script == "ethiopic":
            return Detection(self._geez(text), reliable=enough_text)
        if script == "bengali":
            return Detection((("bn", 1.0),), reliable=enough_text)
        if script == "arabic":
            if PASHTO_LETTERS.intersection(joined):
                return Detection((("ps", 1.0),), reliable=enough_text)
            if URDU_LETTERS.intersection(joined):
                return Detection((("ur", 1.0),), reliable=enough_text)
            return self._langdetect(text, self._arabic_priors, enough_text, len(words))
        if script == "latin":
            romanized = self._romanized(text)
            if romanized is not None:
                return Detection(((romanized, 1.0),), reliable=enough_text)
            return self._langdetect(text, self._latin_priors, enough_text, len(words))
        # Cyrillic, Devanagari, Han, ...: let langdetect name the language, none of ours.
        ranking = self._rank(text, None)
        return Detection(ranking, reliable=enough_text and bool(ranking))

    def _geez(self, text: str) -> tuple[tuple[str, float], ...]:
        tigrinya = sum(text.count(marker) for marker in TIGRINYA_MARKERS)
        amharic = sum(text.count(marker) for marker in AMHARIC_MARKERS)
        total = tigrinya + amharic or 1
        ranked = sorted((("ti", tigrinya / total), ("am", amharic / total)), key=lambda p: -p[1])
        if tigrinya == amharic:
            ranked = [("am", 0.5), ("ti", 0.5)]
        return tuple(ranked)

    def _romanized(self, text: str) -> str | None:
        """Arabic or Urdu typed in Latin letters, when the evidence is clear."""
        lowered = [word for word in re.findall(r"[a-z0-9']+", text.lower()) if not word.isdigit()]
        if not lowered:
            return None
        scores = {}
        for code, markers in ROMANIZED_MARKERS.items():
            if code in self.supported:
                scores[code] = sum(word in markers for word in lowered)
        if "ar" in scores:
            scores["ar"] += sum(bool(ARABIZI_DIGIT_WORD.match(word)) for word in lowered)
        if not scores:
            return None
        best = max(scores, key=lambda code: scores[code])
        share = scores[best] / len(lowered)
        return best if scores[best] >= 1 and share >= ROMANIZED_MIN_SHARE else None

    def _langdetect(self, text: str, priors: dict[str, float], enough_text: bool, words: int) -> Detection:
        ranking = self._rank(text, priors)
        if not ranking:
            return Detection(ranking, reliable=False)
        letters = sum(char.isalpha() for char in text)
        if ranking[0][0] in self.supported:
            return Detection(ranking, reliable=enough_text and ranking[0][1] >= RELIABLE_PROBABILITY)
        # Spanish or Italian matters less than "none of ours": add up the unsupported ones.
        unsupported = sum(p for code, p in ranking if code not in self.supported)
        reliable = (words >= UNSUPPORTED_MIN_WORDS and letters >= UNSUPPORTED_MIN_LETTERS
                    and unsupported >= UNSUPPORTED_PROBABILITY)
        return Detection(ranking, reliable=reliable)

    def _rank(self, text: str, priors: dict[str, float] | None) -> tuple[tuple[str, float], ...]:
        detector = self._factory.create()
        if priors:
            detector.set_prior_map(priors)
        detector.append(text)
        try:
            probabilities = detector.get_probabilities()
        except LangDetectException:
            return ()
        return tuple((p.lang, float(p.prob)) for p in probabilities)


@cache
def _factory(seed: int) -> DetectorFactory:
    """Load langdetect's profiles once per process (they take ~1 s and 50 MB to read)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(seed)
    return factory
