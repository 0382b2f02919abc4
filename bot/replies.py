"""What the assistant says, as keys: the conversation decides these, rendering turns them into text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

NoticeKind = Literal[
    "welcome",
    "help",
    "privacy",
    "no_words",
    "not_text",
    "media",
    "location",
    "unknown_command",
    "expired_button",
    "language_set",
    "forget_confirm",
    "forgotten",
    "not_forgotten",
    "flood",
    "flood_handoff",
    "banned",
]


@dataclass(frozen=True)
class TopicAnswer:
    """A knowledge-base answer."""

    topic: str


@dataclass(frozen=True)
class MainMenu:
    """The main menu: Rights, Asylum steps, Find services, Talk to a person, Language."""


@dataclass(frozen=True)
class AreaMenu:
    """The topics of one area (rights, asylum or services) as buttons."""

    area: str


@dataclass(frozen=True)
class LanguageMenu:
    """The supported languages as buttons."""


@dataclass(frozen=True)
class Emergency:
    """What to do now and the emergency numbers of the deployment's country."""


@dataclass(frozen=True)
class DidNotUnderstand:
    """The engine was not confident: offer its best guesses, a person and the menu."""

    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class EngineDown:
    """The engine could not answer: apologise and offer a person and the menu."""


@dataclass(frozen=True)
class UnsupportedLanguage:
    """The message is in a language the assistant does not speak."""

    detected: str


@dataclass(frozen=True)
class Notice:
    """A fixed interface message from the catalogs."""

    kind: NoticeKind
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowStep:
    """One step of a step-by-step flow (index from 0)."""

    flow: str
    index: int


@dataclass(frozen=True)
class WalkthroughNode:
    """A question of a walkthrough with its options, or the outcome it led to."""

    flow: str
    node: str


@dataclass(frozen=True)
class FinderCategories:
    """The service categories as buttons; `place` ("c.<city>" or "@lat,lon") when already known."""

    place: str = ""


@dataclass(frozen=True)
class FinderAskPlace:
    """Ask for a city or a shared location to search `category` near."""

    category: str


@dataclass(frozen=True)
class FinderResults:
    """One page of the services of `category` at `place`; `unknown_place` when the city was not found."""

    category: str
    place: str = ""
    page: int = 0
    unknown_place: bool = False


Reply = (
    TopicAnswer | MainMenu | AreaMenu | LanguageMenu | Emergency | DidNotUnderstand | EngineDown
    | UnsupportedLanguage | Notice | FlowStep | WalkthroughNode | FinderCategories | FinderAskPlace
    | FinderResults
)


@dataclass(frozen=True)
class Said:
    """A reply and the language to render it in."""

    reply: Reply
    language: str
