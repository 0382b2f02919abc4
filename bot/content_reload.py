"""Reloading the editors' files into a running bot, without a restart or a retraining.

A coordinator's /reload and the console's watch on the files both come here. The files are
checked first: if they have errors the bot keeps serving what it had and says what is wrong.
What a reload cannot change (new topics, example questions, languages) is reported as needing
`make train` and a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content_check import Problem, check_catalogs, check_emergency, check_guided, check_knowledge
from bot.directory import load_directory_snapshot
from bot.emergency import EmergencyRules
from bot.engine.process import sources_hash
from bot.errors import ContentError
from bot.guided.definitions import load_flows
from bot.guided.guide import Guide
from bot.i18n import Catalogs
from bot.knowledge import Content, KnowledgeBase, load_content, store_content
from bot.language.registry import LanguageRegistry

logger = logging.getLogger(__name__)

MAX_PROBLEMS = 10
# What a reload reads: a change to any of these files is what the console watches for.
WATCHED = ("knowledge_base/**/*.yml", "flows/guided/*.yml", "locales/*/LC_MESSAGES/messages.po")


@dataclass(frozen=True)
class ContentReload:
    """What a reload did."""

    applied: bool  # False: the files have errors and the previous content is still served
    problems: tuple[str, ...]  # "file:line: message" (paths from the repository), at most MAX_PROBLEMS
    changed: tuple[str, ...]  # "12 answers changed", ...; empty when nothing changed
    retrain_needed: bool  # topics or example questions changed: `make train`, then restart
    errors: int = 0  # how many errors in all (problems shows the first MAX_PROBLEMS)


class ContentReloader:
    """Re-reads knowledge_base/, the guided flows and the catalogs into the running services."""

    def __init__(self, root: Path, sessions: async_sessionmaker[AsyncSession], languages: LanguageRegistry,
                 knowledge: KnowledgeBase, guide: Guide, catalogs: Catalogs, emergency: EmergencyRules) -> None:
        self.root = root
        self.sessions = sessions
        self.languages = languages
        self.knowledge = knowledge
        self.guide = guide
        self.catalogs = catalogs
        self.emergency = emergency
        self._model_sources = sources_hash(root)
        self._languages_file = self._read(root / "knowledge_base" / "languages.yml")
        self._catalog_files = self._catalog_texts()
        self._seen = self.files_state()

    def files_state(self) -> tuple[tuple[str, int, int], ...]:
        """Name, size and modification time of every watched file: cheap enough to poll per message."""
        found = []
        for pattern in WATCHED:
            for path in sorted(self.root.glob(pattern)):
                stat = path.stat()
                found.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    def files_changed(self) -> bool:
        """Whether a watched file changed since the last reload (or start)."""
        return self.files_state() != self._seen

    async def reload(self) -> ContentReload:
        """Check the files and, if they have no errors, serve them from now on."""
        self._seen = self.files_state()
        folder = self.root / "knowledge_base"
        try:
            content = load_content(folder)
            flows = load_flows(self.root / "flows" / "guided", frozenset(content.topics))
        except ContentError as exc:
            return ContentReload(False, (self._relative(str(exc)),), (), False, 1)
        problems = [p for p in self._check(content) if p.severity == "error"]
        if problems:
            lines = tuple(self._relative(f"{p.where}: {p.message}") for p in problems[:MAX_PROBLEMS])
            return ContentReload(False, lines, (), False, len(problems))
        catalogs = Catalogs.load(self.root / "locales", self.languages.codes)
        emergency = EmergencyRules.load(folder / "emergency")
        directory = await load_directory_snapshot(folder / "services", self.sessions)
        stored = await store_content(content, self.sessions)
        changed = self._changes(self.knowledge.content, stored, self.guide, directory, emergency)
        catalog_files = self._catalog_texts()
        if catalog_files != self._catalog_files:
            changed.append("interface translations changed")
        self._catalog_files = catalog_files
        topics_changed = set(stored.topics) != set(self.knowledge.topics)
        self.knowledge.replace(stored)
        self.guide.replace(flows, directory)
        self.catalogs.replace(catalogs)
        self.emergency.replace(emergency)
        retrain = topics_changed or sources_hash(self.root) != self._model_sources or self._read(
            folder / "languages.yml") != self._languages_file
        logger.info("content reloaded: %s", "; ".join(changed) or "no change")
        return ContentReload(True, (), tuple(changed), retrain)

    def _check(self, content: Content) -> list[Problem]:
        folder = self.root / "knowledge_base"
        return [*check_knowledge(content, self.languages), *check_guided(self.root, content, self.languages),
                *check_catalogs(self.root / "locales", self.languages), *check_emergency(folder / "emergency",
                                                                                         self.languages)]

    def _changes(self, old: Content, new: Content, guide: Guide, directory: object,
                 emergency: EmergencyRules) -> list[str]:
        changed = []
        kinds = ((("answer", "answers"), old.entries, new.entries),
                 (("flow text or country note", "flow texts and country notes"), old.texts, new.texts))
        for (one, many), before, after in kinds:
            edited = sum(1 for key in after if key in before and before[key] != after[key]
                         and _differs(before[key], after[key]))
            added = len(after.keys() - before.keys())
            removed = len(before.keys() - after.keys())
            for count, verb in ((edited, "changed"), (added, "added"), (removed, "removed")):
                if count:
                    changed.append(f"{count} {one if count == 1 else many} {verb}")
        if guide.directory != directory:
            changed.append("service directory changed")
        if emergency.size != self.emergency.size:
            changed.append(f"danger phrases: {self.emergency.size} → {emergency.size}")
        return changed

    def _catalog_texts(self) -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in sorted(self.root.glob("locales/*/LC_MESSAGES/messages.po"))}

    def _relative(self, line: str) -> str:
        """A problem line with its path from the repository's folder, as editors know it."""
        return line.replace(f"{self.root}/", "")

    @staticmethod
    def _read(path: Path) -> bytes:
        return path.read_bytes() if path.exists() else b""


def _differs(before: object, after: object) -> bool:
    """Whether users would see a difference (the line an entry starts on does not count)."""
    fields = ("title", "answer", "sources", "related", "last_reviewed", "review", "text")
    return any(getattr(before, name, None) != getattr(after, name, None) for name in fields)
