"""The knowledge base: topics, answers per language and country profiles.

The YAML files under knowledge_base/ are the source of truth that editors change. At start-up
(and on reload) they are read, written to the database, and read back into an immutable
snapshot that answers lookups without a query per message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.countries import CountryProfile, Source, load_countries, source
from bot.db.models import KnowledgeEntry, KnowledgeText
from bot.errors import ContentError
from bot.review import STATUSES, Review, checksum, parse_review

AREAS = ("rights", "asylum", "services", "conversation")
DATED_AREAS = frozenset({"rights", "asylum", "services"})
# Folders of knowledge_base/ that hold something other than answers, and per-language files that
# are not answers (flow texts, country notes): each has its own loader.
NOT_ANSWERS = frozenset({"countries", "emergency", "services"})
SPECIAL_FILES = frozenset({"flows.yml", "country_notes.yml"})


@dataclass(frozen=True)
class Topic:
    """A topic id of the contract and the area it belongs to."""

    id: str
    area: str
    about: str
    country_specific: bool = False

    @property
    def dated(self) -> bool:
        """Whether its answer in chat ends with its last-reviewed date."""
        return self.area in DATED_AREAS


@dataclass(frozen=True)
class Entry:
    """One topic's answer in one language."""

    topic: str
    language: str
    title: str
    answer: str
    sources: tuple[Source, ...]
    last_reviewed: dt.date
    related: tuple[str, ...]
    review: Review = field(default_factory=Review)
    file: str = ""
    line: int = 0

    @property
    def fingerprint(self) -> str:
        """What an approval covers: everything users read of this answer."""
        return entry_fingerprint(self.title, self.answer, self.sources)


def entry_fingerprint(title: str, answer: str, sources: Iterable[Source]) -> str:
    return checksum(title, answer, [[s.name, s.url] for s in sources])


@dataclass(frozen=True)
class Text:
    """A flow text or country note in one language, with where it was written."""

    text: str
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Content:
    """Everything read from knowledge_base/, before or after a round trip through the database."""

    topics: dict[str, Topic]
    entries: dict[tuple[str, str], Entry]
    countries: dict[str, CountryProfile] = field(default_factory=dict)
    # (language, key) -> text: guided-flow texts ("flow:detention.who.text") and country notes
    # ("note:TR:rights_detention"), from <lang>/flows.yml and <lang>/country_notes.yml.
    texts: dict[tuple[str, str], Text] = field(default_factory=dict)
    # The review state of each flows.yml and country_notes.yml, which are approved as a whole.
    file_reviews: dict[str, Review] = field(default_factory=dict)


class KnowledgeBase:
    """Lookups over an immutable snapshot of the knowledge base."""

    def __init__(self, content: Content, default_language: str = "en", *, reviewed_only: bool = False) -> None:
        self.content = content
        self.default_language = default_language
        # A deployment may serve only reviewed answers of the informational areas; conversation
        # replies (greetings, thanks) are always served.
        self.reviewed_only = reviewed_only

    def replace(self, content: Content) -> None:
        """Serve `content` from now on (a reload); lookups in progress keep the snapshot they read."""
        self.content = content

    @property
    def topics(self) -> dict[str, Topic]:
        return self.content.topics

    def topics_in(self, area: str) -> list[Topic]:
        return [topic for topic in self.content.topics.values() if topic.area == area]

    def entry(self, topic: str, language: str) -> tuple[Entry, bool] | None:
        """The entry for `topic` in `language`, else in the default language (second item True)."""
        entries = self.content.entries
        found = entries.get((topic, language))
        if found is not None and self.servable(found):
            return found, False
        fallback = entries.get((topic, self.default_language))
        return (fallback, True) if fallback is not None and self.servable(fallback) else None

    def servable(self, entry: Entry) -> bool:
        """Whether this deployment may show `entry` (only reviewed ones, if it says so)."""
        topic = self.content.topics.get(entry.topic)
        return not self.reviewed_only or entry.review.reviewed or topic is None or not topic.dated

    def withheld(self, topic: str) -> bool:
        """Whether `topic` has an answer that is not served because it awaits review."""
        return self.reviewed_only and any(key[0] == topic for key in self.content.entries)

    def title(self, topic: str, language: str) -> str:
        found = self.entry(topic, language)
        return found[0].title if found else topic

    def country(self, code: str) -> CountryProfile | None:
        return self.content.countries.get(code)

    def text(self, key: str, language: str) -> tuple[str, bool] | None:
        """A flow text or country note in `language`, else in the default language (second item True)."""
        found = self.content.texts.get((language, key))
        if found is not None:
            return found.text, False
        fallback = self.content.texts.get((self.default_language, key))
        return (fallback.text, True) if fallback is not None else None

    def flow_text(self, key: str, language: str) -> str:
        """The text of a guided flow (`detention.who.text`); its key when missing everywhere."""
        found = self.text(f"flow:{key}", language)
        return found[0] if found else key

    def country_note(self, country: str, topic: str, language: str) -> tuple[str, bool] | None:
        return self.text(f"note:{country}:{topic}", language)


# --- Reading the files ----------------------------------------------------------------------


def load_content(folder: Path) -> Content:
    """Read topics.yml, every <lang>/<area>.yml and countries/*.yml; raise ContentError if broken."""
    topics = _load_topics(folder / "topics.yml")
    entries: dict[tuple[str, str], Entry] = {}
    for path in sorted(folder.glob("*/*.yml")):
        if path.parent.name in NOT_ANSWERS or path.name in SPECIAL_FILES:
            continue
        for entry in _load_entries(path):
            key = (entry.topic, entry.language)
            if key in entries:
                first = entries[key]
                raise ContentError(
                    f"{path}:{entry.line}: topic {entry.topic!r} already defined in "
                    f"{first.file}:{first.line}"
                )
            entries[key] = entry
    texts: dict[tuple[str, str], Text] = {}
    file_reviews: dict[str, Review] = {}
    for path in sorted([*folder.glob("*/flows.yml"), *folder.glob("*/country_notes.yml")]):
        loaded, file_reviews[str(path)] = _load_texts(path, "flow:" if path.name == "flows.yml" else "note:",
                                                      separator="." if path.name == "flows.yml" else ":")
        texts.update(loaded)
    return Content(topics, entries, load_countries(folder / "countries"), texts, file_reviews)


def read_yaml_with_lines(path: Path) -> dict[str, tuple[Any, int]]:
    """A top-level YAML mapping, each value with the (1-based) line of its key."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: cannot be read as YAML ({exc})") from exc
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise ContentError(f"{path}: expected a mapping of topic ids at the top level")
    loader = yaml.SafeLoader("")
    result: dict[str, tuple[Any, int]] = {}
    for key_node, value_node in node.value:
        result[str(key_node.value)] = (
            loader.construct_object(value_node, deep=True),
            key_node.start_mark.line + 1,
        )
    return result


def _load_topics(path: Path) -> dict[str, Topic]:
    topics = {}
    for topic_id, (spec, line) in read_yaml_with_lines(path).items():
        if not isinstance(spec, dict) or spec.get("area") not in AREAS:
            raise ContentError(f"{path}:{line}: topic {topic_id!r} needs an area among {AREAS}")
        topics[topic_id] = Topic(topic_id, spec["area"], str(spec.get("about", "")),
                                 bool(spec.get("country_specific", False)))
    return topics


def _load_entries(path: Path) -> Iterable[Entry]:
    language = path.parent.name
    for topic, (raw, line) in read_yaml_with_lines(path).items():
        where = f"{path}:{line}"
        if not isinstance(raw, dict):
            raise ContentError(f"{where}: topic {topic!r} must be a mapping with title and answer")
        missing = [key for key in ("title", "answer", "last_reviewed") if not raw.get(key)]
        if missing:
            raise ContentError(f"{where}: topic {topic!r} is missing {', '.join(missing)}")
        reviewed = raw["last_reviewed"]
        if not isinstance(reviewed, dt.date):
            try:
                reviewed = dt.date.fromisoformat(str(reviewed))
            except ValueError:
                raise ContentError(
                    f"{where}: last_reviewed of {topic!r} must be a date like 2026-11-21"
                ) from None
        title, answer = str(raw["title"]).strip(), str(raw["answer"]).strip()
        sources = tuple(source(s, where) for s in raw.get("sources") or ())
        yield Entry(
            topic=topic,
            language=language,
            title=title,
            answer=answer,
            sources=sources,
            last_reviewed=reviewed,
            related=tuple(str(r) for r in raw.get("related") or ()),
            review=parse_review(raw.get("review"), entry_fingerprint(title, answer, sources), where),
            file=str(path),
            line=line,
        )


def texts_fingerprint(texts: dict[tuple[str, str], Text]) -> str:
    """What the approval of a flows.yml or country_notes.yml covers: all its texts."""
    return checksum(sorted((key, text.text) for (_, key), text in texts.items()))


def _load_texts(path: Path, prefix: str, separator: str = ".") -> tuple[dict[tuple[str, str], Text], Review]:
    """Flatten a nested mapping of texts into dotted keys; `review:` at the top is the file's status."""
    language = path.parent.name
    texts: dict[tuple[str, str], Text] = {}

    def walk(node: Any, key: str, line: int) -> None:
        if isinstance(node, dict):
            for child, value in node.items():
                walk(value, f"{key}{separator if key else ''}{child}", line)
        elif isinstance(node, str | int | float) and not isinstance(node, bool):
            texts[(language, prefix + key)] = Text(str(node).strip(), str(path), line)
        else:
            raise ContentError(f"{path}:{line}: {key!r} must be a text")

    review, review_line = None, 1
    for top, (value, line) in read_yaml_with_lines(path).items():
        if top == "review":
            review, review_line = value, line
        else:
            walk(value, str(top), line)
    return texts, parse_review(review, texts_fingerprint(texts), f"{path}:{review_line}")


# --- The database round trip ----------------------------------------------------------------


async def sync_to_database(session: AsyncSession, content: Content) -> None:
    """Make the knowledge tables hold exactly the entries and texts of `content`."""
    await session.execute(delete(KnowledgeEntry))
    await session.execute(delete(KnowledgeText))
    session.add_all(
        KnowledgeText(language=language, key=key, text=text.text, source_file=f"{text.file}:{text.line}")
        for (language, key), text in content.texts.items()
    )
    session.add_all(
        KnowledgeEntry(
            topic=e.topic,
            language=e.language,
            title=e.title,
            answer=e.answer,
            sources=[{"name": s.name, "url": s.url} for s in e.sources],
            related=list(e.related),
            last_reviewed=e.last_reviewed,
            review=e.review.status,
            source_file=f"{e.file}:{e.line}",
        )
        for e in content.entries.values()
    )


async def read_from_database(session: AsyncSession, content: Content) -> Content:
    """The entries as stored, with the topics and countries of `content`."""
    entries = {}
    for row in await session.scalars(select(KnowledgeEntry)):
        file, _, line = row.source_file.rpartition(":")
        entries[(row.topic, row.language)] = Entry(
            topic=row.topic,
            language=row.language,
            title=row.title,
            answer=row.answer,
            sources=tuple(Source(s["name"], s.get("url")) for s in row.sources),
            last_reviewed=row.last_reviewed,
            related=tuple(row.related),
            review=Review(row.review) if row.review in STATUSES else Review(),
            file=file,
            line=int(line or 0),
        )
    texts = {}
    for text_row in await session.scalars(select(KnowledgeText)):
        file, _, line = text_row.source_file.rpartition(":")
        texts[(text_row.language, text_row.key)] = Text(text_row.text, file, int(line or 0))
    return Content(content.topics, entries, content.countries, texts, content.file_reviews)


async def store_content(content: Content, sessions: async_sessionmaker[AsyncSession]) -> Content:
    """Write `content` to the database and return what reads back from it."""
    async with sessions.begin() as session:
        await sync_to_database(session, content)
    async with sessions() as session:
        return await read_from_database(session, content)


async def load_knowledge_base(
    folder: Path, sessions: async_sessionmaker[AsyncSession], default_language: str, *, reviewed_only: bool = False
) -> KnowledgeBase:
    """Read the files, store them in the database and return a snapshot read back from it."""
    return KnowledgeBase(await store_content(load_content(folder), sessions), default_language,
                         reviewed_only=reviewed_only)
