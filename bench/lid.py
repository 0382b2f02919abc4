"""Language identification on ../shared/data/lid (real text nobody here wrote): a test set only.

Three detectors on the same lines: the project's resolver (each line the first message of a new
user: no stored choice, no Telegram hint), plain langdetect (all its languages), and lingua
restricted to the same languages as the resolver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from langdetect import DetectorFactory
from langdetect import detect as langdetect_detect
from langdetect.lang_detect_exception import LangDetectException
from lingua import IsoCode639_1, LanguageDetectorBuilder

from bot.language.detection import LanguageDetector
from bot.language.registry import Language, LanguageRegistry
from bot.language.resolver import LanguageResolver

CATEGORIES = ("single-words", "word-pairs", "sentences")
# The resolver as a deployment speaking every language of the data would configure it:
# the launch languages with their priors, and the ones the code already takes (tr, bn, id).
EXTRA = {"tr": "Türkçe", "bn": "বাংলা", "id": "Bahasa Indonesia"}


@dataclass(frozen=True)
class Score:
    detector: str
    category: str
    language: str
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def resolver_for(registry: LanguageRegistry, languages: list[str]) -> LanguageResolver:
    known = {lang.code: lang for lang in registry.languages}
    entries = tuple(known.get(code) or Language(code, code, EXTRA.get(code, code), False, 0.5) for code in languages)
    full = LanguageRegistry(entries)
    detector = LanguageDetector({lang.code: lang.prior for lang in full.languages})
    return LanguageResolver(full, detector, "en")


def detectors(registry: LanguageRegistry, languages: list[str]) -> dict[str, Callable[[list[str]], list[str | None]]]:
    resolver = resolver_for(registry, languages)
    DetectorFactory.seed = 0
    lingua = LanguageDetectorBuilder.from_iso_codes_639_1(
        *[getattr(IsoCode639_1, code.upper()) for code in languages]).build()

    def plain_langdetect(lines: list[str]) -> list[str | None]:
        found: list[str | None] = []
        for line in lines:
            try:
                found.append(langdetect_detect(line))
            except LangDetectException:
                found.append(None)
        return found

    def lingua_restricted(lines: list[str]) -> list[str | None]:
        return [lang.iso_code_639_1.name.lower() if lang else None
                for lang in lingua.detect_languages_in_parallel_of(lines)]

    return {
        "resolver (this project)": lambda lines: [resolver.resolve(line).language for line in lines],
        "langdetect (plain)": plain_langdetect,
        "lingua (restricted)": lingua_restricted,
    }


def run(data: Path, registry: LanguageRegistry, limit: int | None, progress: Callable[[str], None]) -> list[Score]:
    languages = sorted(p.stem for p in (data / "sentences").glob("*.txt"))
    scores = []
    for name, detect in detectors(registry, languages).items():
        for category in CATEGORIES:
            for language in languages:
                lines = [line.strip() for line in (data / category / f"{language}.txt").read_text(
                    encoding="utf-8").splitlines() if line.strip()][:limit]
                found = detect(lines)
                scores.append(Score(name, category, language, sum(f == language for f in found), len(lines)))
            done = [s for s in scores if s.detector == name and s.category == category]
            progress(f"[lid] {name:24} {category:12} "
                     f"{100 * sum(s.correct for s in done) / sum(s.total for s in done):5.1f}%")
    return scores
