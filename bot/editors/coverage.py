"""`make coverage`: which topic is answered in which language, and how fresh each answer is.

Printed as a table in the terminal and written to docs/COVERAGE.md for the team's wiki.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from babel.messages.pofile import read_po

from bot.content_check import max_age_days, nlu_examples
from bot.guided.definitions import load_flows
from bot.knowledge import AREAS, Content, load_content
from bot.language.registry import LanguageRegistry

Cell = Literal["reviewed", "draft", "changed", "outdated", "missing"]
SYMBOLS: dict[Cell, str] = {"reviewed": "✓", "draft": "·", "changed": "!", "outdated": "⌛", "missing": "✗"}
LEGEND = {
    "reviewed": "answered and reviewed",
    "draft": "answered, awaiting review",
    "changed": "changed since its review: awaiting a second person's approval",
    "outdated": "last reviewed longer ago than review.yml allows, or older than the English answer",
    "missing": "no answer: users get the English one",
}


@dataclass(frozen=True)
class Coverage:
    languages: LanguageRegistry
    topics: list[tuple[str, str]]  # (area, topic) in menu order
    cells: dict[tuple[str, str], Cell]  # (topic, language) -> state
    totals: dict[str, dict[str, str]]  # language -> what -> "present/expected"


def coverage(root: Path, today: dt.date | None = None) -> Coverage:
    """The state of every topic in every language, and per-language totals of the other texts."""
    folder = root / "knowledge_base"
    today = today or dt.date.today()
    languages = LanguageRegistry.load(folder / "languages.yml")
    content = load_content(folder)
    max_age = max_age_days(folder)
    topics = [(topic.area, topic.id) for area in AREAS for topic in content.topics.values() if topic.area == area]
    cells = {(topic, language): _cell(content, topic, language, max_age, today)
             for _, topic in topics for language in languages.codes}
    return Coverage(languages, topics, cells, _totals(root, content, languages))


def _cell(content: Content, topic: str, language: str, max_age: int, today: dt.date) -> Cell:
    entry = content.entries.get((topic, language))
    if entry is None:
        return "missing"
    english = content.entries.get((topic, "en"))
    dated = content.topics[topic].dated if topic in content.topics else False
    if dated and ((today - entry.last_reviewed).days > max_age
                  or (english is not None and entry.last_reviewed < english.last_reviewed)):
        return "outdated"
    return entry.review.status


def _totals(root: Path, content: Content, languages: LanguageRegistry) -> dict[str, dict[str, str]]:
    flow_keys = load_flows(root / "flows" / "guided", frozenset(content.topics)).text_keys()
    specific = [t.id for t in content.topics.values() if t.country_specific]
    notes = [f"note:{country}:{topic}" for country in content.countries for topic in specific]
    totals = {}
    for language in languages.codes:
        examples = sum(len(nlu_examples(path)) for path in sorted((root / "nlu" / language).glob("*.yml")))
        totals[language] = {
            "answers": f"{sum(1 for t in content.topics if (t, language) in content.entries)}/{len(content.topics)}",
            "flow texts": f"{sum(1 for k in flow_keys if (language, f'flow:{k}') in content.texts)}/{len(flow_keys)}",
            "country notes": f"{sum(1 for k in notes if (language, k) in content.texts)}/{len(notes)}",
            "interface strings": "source" if language == "en" else _catalog_total(
                root / "locales" / language / "LC_MESSAGES" / "messages.po"),
            "example questions": str(examples),
        }
    return totals


def _catalog_total(path: Path) -> str:
    if not path.exists():
        return "none"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    messages = [m for m in catalog if m.id]
    done = sum(1 for m in messages if (any(m.string) if isinstance(m.string, tuple | list) else m.string)
               and not m.fuzzy)
    return f"{done}/{len(messages)}"


def terminal_table(found: Coverage) -> str:
    codes = found.languages.codes
    width = max(len(topic) for _, topic in found.topics) + 2
    lines = [" " * width + "  ".join(f"{code:^3}" for code in codes)]
    area = ""
    for topic_area, topic in found.topics:
        if topic_area != area:
            area = topic_area
            lines.append(area.upper())
        lines.append(f"  {topic:<{width - 2}}" + "  ".join(f"{SYMBOLS[found.cells[(topic, c)]]:^3}" for c in codes))
    lines.append("")
    for what in next(iter(found.totals.values())):
        lines.append(f"{what:<{width}}" + "  ".join(f"{found.totals[c][what]:>7}" for c in codes))
    lines.append("")
    lines += [f"  {SYMBOLS[cell]} {meaning}" for cell, meaning in LEGEND.items()]  # type: ignore[index]
    counts = {cell: sum(1 for state in found.cells.values() if state == cell) for cell in SYMBOLS}
    lines.append("  " + ", ".join(f"{count} {cell}" for cell, count in counts.items()))
    return "\n".join(lines)


def markdown(found: Coverage, today: dt.date) -> str:
    codes = found.languages.codes
    names = {language.code: language.name for language in found.languages.languages}
    lines = [
        "# Content coverage: topics × languages",
        "",
        f"Generated by `make coverage` on {today.isoformat()}; do not edit by hand.",
        "",
        " · ".join(f"{SYMBOLS[cell]} {meaning}" for cell, meaning in LEGEND.items()),  # type: ignore[index]
        "",
        "| Topic | " + " | ".join(names[c] for c in codes) + " |",
        "|---|" + "---|" * len(codes),
    ]
    area = ""
    for topic_area, topic in found.topics:
        if topic_area != area:
            area = topic_area
            lines.append(f"| **{area}** |" + " |" * len(codes))
        lines.append(f"| `{topic}` | " + " | ".join(SYMBOLS[found.cells[(topic, c)]] for c in codes) + " |")
    lines += ["", "| Totals | " + " | ".join(names[c] for c in codes) + " |", "|---|" + "---|" * len(codes)]
    for what in next(iter(found.totals.values())):
        lines.append(f"| {what} | " + " | ".join(found.totals[c][what] for c in codes) + " |")
    return "\n".join(lines) + "\n"


def run(root: Path, out: Path) -> int:
    today = dt.date.today()
    found = coverage(root, today)
    print(terminal_table(found))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(found, today), encoding="utf-8")
    print(f"\nwritten to {out.relative_to(root) if out.is_relative_to(root) else out}")
    return 0
