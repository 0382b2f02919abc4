"""Preferences, the knowledge base and the engine's tracker store on SQLite and on PostgreSQL."""

from collections.abc import Callable

import pytest
from sqlalchemy import text

from bot.db import preferences
from bot.db.session import create_engine, create_schema, session_factory
from bot.engine.client import EngineClient
from bot.engine.process import EngineServer, ensure_trained
from bot.knowledge import load_knowledge_base
from bot.replies import Notice, TopicAnswer
from bot.services import open_services
from bot.settings import ROOT, Settings
from tests.conftest import free_port


async def test_preferences_are_kept_and_forgotten(database_url: str) -> None:
    engine = create_engine(database_url)
    await create_schema(engine)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        await preferences.save_languages(session, "user-a", last="ar")
        await preferences.save_languages(session, "user-b", last="en", chosen="fr")
    async with sessions.begin() as session:
        await preferences.save_languages(session, "user-a", last="ar", chosen="fa")
    async with sessions() as session:
        stored = await preferences.get_preferences(session, "user-a")
        assert stored is not None and (stored.chosen_language, stored.last_language) == ("fa", "ar")
    async with sessions.begin() as session:
        assert await preferences.forget_user(session, "user-a") == 1
    async with sessions() as session:
        assert await preferences.get_preferences(session, "user-a") is None
        assert await preferences.get_preferences(session, "user-b") is not None
    await engine.dispose()


async def test_the_knowledge_base_round_trips_through_the_database(database_url: str) -> None:
    engine = create_engine(database_url)
    await create_schema(engine)
    kb = await load_knowledge_base(ROOT / "knowledge_base", session_factory(engine), "en")
    entry, fallback = kb.entry("asylum_appeal", "ar")  # type: ignore[misc]
    assert not fallback and entry.related and entry.sources and entry.last_reviewed.year >= 2026
    await engine.dispose()


@pytest.mark.engine
@pytest.mark.postgres
async def test_on_postgresql_the_engine_keeps_history_there_and_forget_removes_it(
        postgres_url: str, make_settings: Callable[..., Settings]) -> None:
    # DATABASE_URL alone: the engine's tracker store follows it into PostgreSQL.
    settings = make_settings(DATABASE_URL=postgres_url, ENGINE_URL=f"http://127.0.0.1:{free_port()}",
                             ENGINE_DATABASE_URL=postgres_url)
    client = EngineClient(settings.engine_url, settings.engine_token, 10.0)
    server = EngineServer(settings, ensure_trained(settings))
    await server.start(client)
    try:
        async with open_services(settings, start_engine=False) as services:
            user = services.user(55)
            replies = [s.reply async for s in services.conversation.on_text(user, "كيف أقدم طلب لجوء؟")]
            assert replies == [TopicAnswer("asylum_registration")]
            count = text("SELECT count(*) FROM events WHERE sender_id = :s")
            async with services.database.connect() as connection:
                assert (await connection.execute(count, {"s": user.engine_id})).scalar_one() > 0
            forgotten = [s.reply async for s in services.conversation.forget(user, confirmed=True)]
            assert forgotten == [Notice("forgotten")]
            async with services.database.connect() as connection:
                assert (await connection.execute(count, {"s": user.engine_id})).scalar_one() == 0
    finally:
        await server.stop()
        await client.close()
