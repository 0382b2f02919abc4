"""The composition root: builds every long-lived service once and hands them down."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.abuse import Gatekeeper
from bot.bans import Bans
from bot.content_reload import ContentReload, ContentReloader
from bot.conversation import Conversation, User
from bot.db.session import create_engine, create_schema, session_factory
from bot.directory import load_directory_snapshot
from bot.emergency import EmergencyRules
from bot.engine.client import EngineClient
from bot.engine.process import running_engine
from bot.engine.tracker import EngineTrackerStore
from bot.guided.definitions import load_flows
from bot.guided.guide import Guide
from bot.guided.rendering import GuideRenderer
from bot.handoff.service import Handoff
from bot.handoff.texts import HandoffTexts
from bot.health import HEARTBEAT_FILE, HealthMonitor
from bot.i18n import Catalogs
from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.language.detection import LanguageDetector
from bot.language.registry import LanguageRegistry
from bot.language.resolver import LanguageResolver
from bot.limits import FloodLimiter
from bot.pseudonyms import pseudonym
from bot.rendering import Renderer
from bot.retention import Retention
from bot.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a handler may need, built by `open_services`."""

    settings: Settings
    database: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    languages: LanguageRegistry
    resolver: LanguageResolver
    emergency: EmergencyRules
    knowledge: KnowledgeBase
    catalogs: Catalogs
    engine: EngineClient
    tracker_store: EngineTrackerStore
    conversation: Conversation
    renderer: Renderer
    handoff: Handoff
    reloader: ContentReloader
    gatekeeper: Gatekeeper  # bans and flood limits, before anything else sees an update
    health: HealthMonitor  # probes the engine and the database; started with the Telegram bot
    retention: Retention  # deletes what is older than RETENTION_DAYS; started with the bot or the console

    async def reload_content(self) -> ContentReload:
        """Serve the knowledge base, flows, directory and catalogs as the files now say (if they check out)."""
        return await self.reloader.reload()

    def user(self, telegram_id: int | str, language_hint: str | None = None, chat_id: int | None = None) -> User:
        """The pipeline's view of a Telegram user: two keyed pseudonyms, and the chat only the relay uses."""
        key = self.settings.pseudonym_key
        return User(
            key=pseudonym(key, "user", telegram_id),
            engine_id=pseudonym(key, "engine", telegram_id),
            language_hint=language_hint,
            chat_id=chat_id if chat_id is not None else (telegram_id if isinstance(telegram_id, int) else None),
        )


def build_resolver(settings: Settings) -> tuple[LanguageRegistry, LanguageResolver]:
    languages = LanguageRegistry.load(settings.root / "knowledge_base" / "languages.yml")
    detector = LanguageDetector({lang.code: lang.prior for lang in languages.languages})
    return languages, LanguageResolver(languages, detector, settings.default_language)


@contextlib.asynccontextmanager
async def open_services(settings: Settings, *, start_engine: bool = True) -> AsyncIterator[Services]:
    """Build the services (starting the engine if none answers) and close them afterwards."""
    async with contextlib.AsyncExitStack() as stack:
        content = settings.root / "knowledge_base"
        languages, resolver = build_resolver(settings)
        database = create_engine(settings.database_url)
        stack.push_async_callback(database.dispose)
        await create_schema(database)
        sessions = session_factory(database)
        knowledge = await load_knowledge_base(content, sessions, settings.default_language,
                                              reviewed_only=settings.reviewed_only)
        guide = Guide(load_flows(settings.root / "flows" / "guided", frozenset(knowledge.topics)),
                      await load_directory_snapshot(content / "services", sessions),
                      settings.country, settings.service_samples)
        catalogs = Catalogs.load(settings.root / "locales", languages.codes)
        emergency = EmergencyRules.load(content / "emergency")
        engine = EngineClient(settings.engine_url, settings.engine_token, settings.engine_timeout)
        stack.push_async_callback(engine.close)
        tracker_store = EngineTrackerStore(settings.engine_database_url)
        stack.push_async_callback(tracker_store.close)
        if start_engine:
            await stack.enter_async_context(running_engine(settings, engine, required=False))
        handoff = Handoff.build(
            sessions, HandoffTexts(catalogs, languages, knowledge), settings.handoff,
            retention=timedelta(days=settings.retention_days), reset_engine=tracker_store.delete_conversation,
            area_of={topic.id: topic.area for topic in knowledge.topics.values()},
        )
        stack.push_async_callback(handoff.stop)
        conversation = Conversation(
            sessions=sessions, engine=engine, tracker_store=tracker_store, resolver=resolver,
            emergency=emergency, knowledge=knowledge, handoff=handoff.queue, guide=guide,
        )
        renderer = Renderer(knowledge, catalogs, languages, settings.country, settings.retention_days,
                            GuideRenderer(knowledge, guide))
        reloader = ContentReloader(settings.root, sessions, languages, knowledge, guide, catalogs, emergency)
        gatekeeper = Gatekeeper(FloodLimiter(sessions, settings.flood), Bans(handoff.desk))
        health = HealthMonitor(engine, database, handoff.desk, settings.state_dir / HEARTBEAT_FILE,
                               every=settings.health_probe_every, alert_after=settings.health_alert_after)
        stack.push_async_callback(health.stop)
        retention = Retention(timedelta(days=settings.retention_days), sessions, handoff.timers, tracker_store,
                              settings.state_dir / "logs")
        stack.push_async_callback(retention.stop)
        logger.info("services ready: %d languages, %d topics, %d danger phrases",
                    len(languages.codes), len(knowledge.topics), emergency.size)
        yield Services(settings, database, sessions, languages, resolver, emergency, knowledge,
                       catalogs, engine, tracker_store, conversation, renderer, handoff, reloader, gatekeeper,
                       health, retention)
