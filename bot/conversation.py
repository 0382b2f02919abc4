"""The conversation pipeline, independent of Telegram: the console and the tests drive it too.

Data flows one way: message -> danger phrases -> language -> engine -> replies as keys.
Every method yields `Said` items in the order they must reach the user; rendering happens later.
When a person is needed (asked for, an emergency, or two answers in a row not understood) the
user is queued for a volunteer after the replies; the queue's acknowledgement goes through the
handoff outbox, so it can later be updated with the user's place in the queue.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import limits
from bot.callbacks import ButtonAction
from bot.db import preferences
from bot.emergency import EmergencyRules
from bot.engine.client import EngineClient, Parse
from bot.engine.tracker import EngineTrackerStore
from bot.errors import EngineError
from bot.guided.guide import PENDING_FINDER, Guide
from bot.handoff import recent
from bot.handoff.queue import HandoffQueue, Reason, Requester
from bot.knowledge import KnowledgeBase
from bot.language.resolver import LanguageResolver, Resolution
from bot.replies import (
    AreaMenu,
    DidNotUnderstand,
    Emergency,
    EngineDown,
    FinderAskPlace,
    FinderCategories,
    FinderResults,
    FlowStep,
    LanguageMenu,
    MainMenu,
    Notice,
    NoticeKind,
    Reply,
    Said,
    TopicAnswer,
    UnsupportedLanguage,
    WalkthroughNode,
)

logger = logging.getLogger(__name__)

# Topics the bot answers with its own screens rather than a knowledge-base text.
SCREENS: dict[str, Reply] = {
    "change_language": LanguageMenu(),
    "delete_my_data": Notice("forget_confirm"),
    "menu": MainMenu(),
    "emergency": Emergency(),
}
NOT_SUGGESTED = frozenset({"out_of_scope", "greet", "goodbye", "thanks", "nlu_fallback"})
MIN_SUGGESTION_CONFIDENCE = 0.05
# How long the finder waits for a city after asking for one; later, a city name starts afresh.
PENDING_VALID = timedelta(minutes=15)
# A message this short that is not a known city still answers the finder's question ("Ankara").
MAX_WORDS_FOR_A_PLACE = 3


@dataclass(frozen=True)
class User:
    """Who is writing, as the pipeline knows them: pseudonyms only."""

    key: str
    engine_id: str
    language_hint: str | None = None
    chat_id: int | None = None  # where a volunteer's replies go; never logged, never shown


@dataclass(frozen=True, kw_only=True)
class Conversation:
    """Turns what a user sends into what the assistant says."""

    sessions: async_sessionmaker[AsyncSession]
    engine: EngineClient
    tracker_store: EngineTrackerStore
    resolver: LanguageResolver
    emergency: EmergencyRules
    knowledge: KnowledgeBase
    handoff: HandoffQueue | None = None
    guide: Guide | None = None

    async def language_of(self, user: User) -> str:
        """The language to use for a reply that has no text to detect from."""
        resolution, _, _ = await self._resolve(user, "")
        return resolution.language

    async def _resolve(self, user: User, text: str) -> tuple[Resolution, str | None, str | None]:
        """The language of `text` for this user, the conversation language stored before it, and what a
        guided flow waits for from the user."""
        async with self.sessions() as session:
            stored = await preferences.get_preferences(session, user.key)
        previous = stored.last_language if stored else None
        resolution = self.resolver.resolve(
            text,
            chosen=stored.chosen_language if stored else None,
            telegram_hint=user.language_hint,
            previous=previous,
        )
        return resolution, previous, preferences.pending_of(stored, datetime.now(UTC), PENDING_VALID)

    async def on_text(self, user: User, text: str) -> AsyncIterator[Said]:
        """Answer a text message."""
        text = clean_text(text)
        resolution, previous, pending = await self._resolve(user, text)
        language = resolution.language
        if previous != language:
            async with self.sessions.begin() as session:
                await preferences.save_languages(session, user.key, last=language)

        danger = self.emergency.match(text)
        if danger is not None:
            logger.info("emergency phrase matched (category %s)", danger.category)
            yield Said(Emergency(), language)
        if resolution.unsupported is not None:
            yield Said(UnsupportedLanguage(resolution.unsupported), language)
            if danger is not None:
                await self._escalate(user, language, "emergency", "emergency", urgent=True)
            return
        if not any(unicodedata.category(char).startswith("L") for char in text):
            if danger is None:
                yield Said(Notice("no_words"), language)
            return
        if danger is None:
            place = await self._place_reply(user, text, pending)
            if place is not None:
                yield Said(place, language)
                return
        try:
            turn = await self.engine.message(user.engine_id, text=text)
        except EngineError as exc:
            logger.warning("engine failed: %s", type(exc).__name__)
            if danger is None:
                yield Said(EngineDown(), language)
            else:
                await self._escalate(user, language, "emergency", "emergency", urgent=True)
            return
        logger.info("understood intent=%s confidence=%.2f lang=%s via=%s",
                    turn.parse.intent, turn.parse.confidence, language, resolution.source)
        replies = self._replies(turn.payloads, turn.parse)
        urgent = danger is not None or any(isinstance(reply, Emergency) for reply in replies)
        asked = any(isinstance(reply, TopicAnswer) and reply.topic == "request_human" for reply in replies)
        understood = not any(isinstance(reply, DidNotUnderstand) for reply in replies) \
            and turn.parse.intent != "out_of_scope"
        topic = next((reply.topic for reply in replies if isinstance(reply, TopicAnswer)), None)
        async with self.sessions.begin() as session:
            misunderstood = await preferences.note_understanding(session, user.key, understood=understood)
            not_understood_twice = misunderstood >= 2 and not urgent and not asked
            if not_understood_twice:  # the person takes over: the count starts again
                await preferences.note_understanding(session, user.key, understood=True)
            await recent.remember(session, user.key, text, topic, datetime.now(UTC))
        for reply in replies:
            if danger is not None and isinstance(reply, Emergency):
                continue  # already shown first
            if asked and self.handoff is not None and isinstance(reply, TopicAnswer):
                continue  # the queue's acknowledgement answers instead
            yield Said(reply, language)
        if urgent:
            await self._escalate(user, language, "emergency", "emergency", urgent=True)
        elif asked:
            async for said in self.escalate(user, language, "asked"):
                yield said
        elif not_understood_twice:
            await self._escalate(user, language, "not_understood", None)

    async def emergency_only(self, user: User, text: str) -> AsyncIterator[Said]:
        """The emergency answer alone, in the language of `text` (for a user the assistant otherwise ignores)."""
        resolution, _, _ = await self._resolve(user, clean_text(text))
        yield Said(Emergency(), resolution.language)

    async def on_button(self, user: User, action: ButtonAction | None) -> AsyncIterator[Said]:
        """Answer a button press (None: data this bot could not have sent)."""
        language = await self.language_of(user)
        if action is None:
            yield Said(Notice("expired_button"), language)
        elif action.kind == "menu":
            yield Said(MainMenu(), language)
        elif action.kind == "area":
            yield Said(AreaMenu(action.value), language)
        elif action.kind == "languages":
            yield Said(LanguageMenu(), language)
        elif action.kind == "language":
            async for said in self.choose_language(user, action.value):
                yield said
        elif action.kind == "forget":
            async for said in self.forget(user, confirmed=action.value == "yes"):
                yield said
        elif action.kind == "handoff":
            yield Said(Notice("expired_button"), language)  # handoff buttons are answered by the handoff desk
        elif action.kind in {"steps", "walk", "finder"}:
            yield Said(await self._guided(user, action), language)
        else:
            topic = "request_human" if action.kind == "human" else action.value
            async for said in self.on_topic(user, topic, language):
                yield said

    async def on_location(self, user: User, latitude: float, longitude: float) -> AsyncIterator[Said]:
        """A shared location: the services near it (of the category asked for, else choose one)."""
        resolution, _, pending = await self._resolve(user, "")
        language = resolution.language
        if self.guide is None:
            yield Said(Notice("location"), language)
            return
        place = self.guide.located(latitude, longitude).code
        category = await self._take_finder_category(user, pending)
        if category is not None:
            yield Said(FinderResults(category, place), language)
        else:
            yield Said(FinderCategories(place), language)

    async def _take_finder_category(self, user: User, pending: str | None) -> str | None:
        """The category the finder asked a place for, if any; the question is answered, so it is cleared."""
        if pending is None or not pending.startswith(PENDING_FINDER):
            return None
        async with self.sessions.begin() as session:
            await preferences.set_pending(session, user.key, None, datetime.now(UTC))
        return pending.removeprefix(PENDING_FINDER)

    async def _guided(self, user: User, action: ButtonAction) -> Reply:
        """A guided-flow button: steps and walkthrough nodes as pressed; the finder asks where when needed."""
        flow, _, rest = action.value.partition(":")
        if action.kind == "steps":
            return FlowStep(flow, int(rest))
        if action.kind == "walk":
            return WalkthroughNode(flow, rest)
        category, place, page = flow, *rest.partition(":")[::2]
        if not category:
            return FinderCategories(place)
        if not place:
            async with self.sessions.begin() as session:
                await preferences.set_pending(session, user.key, PENDING_FINDER + category, datetime.now(UTC))
            return FinderAskPlace(category)
        return FinderResults(category, place, int(page or 0))

    async def _place_reply(self, user: User, text: str, pending: str | None) -> Reply | None:
        """The finder's answer when the message names a place: the city it waited for, or a city alone."""
        if self.guide is None:
            return None
        city = self.guide.city_named(text)
        category = await self._take_finder_category(user, pending)
        if category is not None:
            if city is not None:
                return FinderResults(category, f"c.{city.id}")
            if len(text.split()) <= MAX_WORDS_FOR_A_PLACE:
                return FinderResults(category, unknown_place=True)
        elif city is not None and len(text.split()) <= MAX_WORDS_FOR_A_PLACE:
            return FinderCategories(f"c.{city.id}")
        return None

    async def on_topic(self, user: User, topic: str, language: str) -> AsyncIterator[Said]:
        """Answer a topic chosen by button: through the engine, or from the knowledge base if it is down."""
        if topic == "request_human" and self.handoff is not None:
            async for said in self.escalate(user, language, "asked"):
                yield said
            return
        try:
            turn = await self.engine.message(user.engine_id, intent=topic)
            replies = list(self._replies(turn.payloads, None))
        except EngineError as exc:
            logger.warning("engine failed on a button: %s", type(exc).__name__)
            replies = [SCREENS.get(topic, TopicAnswer(topic))]
        for reply in replies:
            yield Said(reply, language)
        if any(isinstance(reply, Emergency) for reply in replies):
            await self._escalate(user, language, "emergency", "emergency", urgent=True)

    async def escalate(self, user: User, language: str, reason: Reason) -> AsyncIterator[Said]:
        """Queue the user for a person; without a handoff queue, say where people can be reached."""
        if self.handoff is None or user.chat_id is None:
            yield Said(TopicAnswer("request_human"), language)
            return
        await self._escalate(user, language, reason, None)

    async def _escalate(self, user: User, language: str, reason: Reason, topic: str | None, *,
                        urgent: bool = False) -> None:
        if self.handoff is None or user.chat_id is None:
            return
        if topic is None:
            async with self.sessions() as session:
                topic = await recent.last_topic(session, user.key)
        found = self.knowledge.entry("request_human", language)
        help_text = found[0].answer if found and reason == "asked" else None
        await self.handoff.request(Requester(user.key, user.engine_id, user.chat_id, language), reason, topic,
                                   urgent=urgent, help_text=help_text)

    async def choose_language(self, user: User, code: str) -> AsyncIterator[Said]:
        """Store an explicit language choice."""
        async with self.sessions.begin() as session:
            await preferences.save_languages(session, user.key, last=code, chosen=code)
        yield Said(Notice("language_set"), code)
        yield Said(MainMenu(), code)

    async def forget(self, user: User, *, confirmed: bool) -> AsyncIterator[Said]:
        """Delete everything stored about the user once they confirmed."""
        language = await self.language_of(user)
        if not confirmed:
            yield Said(Notice("not_forgotten"), language)
            return
        if self.handoff is not None:
            await self.handoff.forget(user.key, user.chat_id)
        async with self.sessions.begin() as session:
            await preferences.forget_user(session, user.key)
            await recent.forget(session, user.key)
            await limits.forget_user(session, user.key)
        await self.tracker_store.delete_conversation(user.engine_id)
        logger.info("user data deleted on request")
        yield Said(Notice("forgotten"), language)

    async def notice(self, user: User, kind: NoticeKind, **params: str) -> AsyncIterator[Said]:
        """A fixed message in the user's language."""
        yield Said(Notice(kind, dict(params)), await self.language_of(user))

    def _replies(self, payloads: list[dict[str, Any]], parse: Parse | None) -> list[Reply]:
        replies: list[Reply] = []
        for payload in payloads:
            topic = payload.get("topic")
            if isinstance(topic, str) and topic in self.knowledge.topics:
                replies.append(SCREENS.get(topic, TopicAnswer(topic)))
            elif payload.get("fallback"):
                replies.append(DidNotUnderstand(self._suggestions(parse)))
            else:
                logger.warning("engine payload not understood; ignored")
        if not replies:
            replies.append(DidNotUnderstand(self._suggestions(parse)))
        return replies

    def _suggestions(self, parse: Parse | None) -> tuple[str, ...]:
        if parse is None:
            return ()
        return tuple(
            name for name, confidence in parse.ranking
            if name in self.knowledge.topics and name not in NOT_SUGGESTED
            and confidence >= MIN_SUGGESTION_CONFIDENCE
        )[:3]


def clean_text(text: str) -> str:
    """Drop control and bidi-override characters; keep line breaks."""
    return "".join(
        char for char in text
        if char in "\n\t" or unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co"}
        or char == "\u200c"  # zero-width non-joiner is part of Persian spelling
    ).strip()
