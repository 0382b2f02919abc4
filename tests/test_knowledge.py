"""The knowledge base: files -> database -> snapshot, lookups and the English fallback."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.models import KnowledgeEntry
from bot.db.session import create_engine, create_schema, session_factory
from bot.errors import ContentError
from bot.knowledge import load_content, load_knowledge_base
from bot.settings import ROOT

KB = ROOT / "knowledge_base"


def test_every_topic_has_an_answer_in_english_and_arabic() -> None:
    content = load_content(KB)
    assert len(content.topics) == 42
    for language in ("en", "ar"):
        missing = [t for t in content.topics if (t, language) not in content.entries]
        assert missing == [], f"{language} lacks {missing}"


def test_answers_fit_a_telegram_message_and_carry_a_review_date() -> None:
    for entry in load_content(KB).entries.values():
        assert 0 < len(entry.answer) < 3500 and len(entry.title) <= 40
        assert entry.last_reviewed <= dt.date.today()


async def test_the_knowledge_base_is_stored_in_the_database_and_served_from_it(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}")
    await create_schema(engine)
    sessions = session_factory(engine)
    kb = await load_knowledge_base(KB, sessions, "en")
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(KnowledgeEntry))
    assert stored == len(load_content(KB).entries)
    entry, fallback = kb.entry("rights_detention", "ar")  # type: ignore[misc]
    assert not fallback and entry.language == "ar" and entry.file.endswith("ar/rights.yml")
    # A reload replaces, it does not duplicate.
    await load_knowledge_base(KB, sessions, "en")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KnowledgeEntry)) == stored
    await engine.dispose()


async def test_a_missing_translation_falls_back_to_english(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}")
    await create_schema(engine)
    kb = await load_knowledge_base(KB, session_factory(engine), "en")
    entry, fallback = kb.entry("rights_detention", "ps")  # type: ignore[misc]  (Pashto: no answers yet)
    assert fallback and entry.language == "en"
    await engine.dispose()


def test_a_broken_entry_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "topics.yml").write_text("greet: {area: conversation}\n")
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "conversation.yml").write_text("\ngreet:\n  title: Hello\n")
    with pytest.raises(ContentError, match=r"conversation.yml:2: topic 'greet' is missing answer, last_reviewed"):
        load_content(tmp_path)


def test_the_default_country_profile_ships_turkeys_112_with_its_source() -> None:
    profile = load_content(KB).countries["TR"]
    assert [n.number for n in profile.emergency_numbers] == ["112"]
    assert profile.emergency_numbers[0].source.url == "https://www.112.gov.tr/"
