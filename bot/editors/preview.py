"""`make preview`: a topic or a guided flow in any language, drawn as Telegram shows it.

The message is rendered by the bot's own renderer (same text, same right-to-left isolation,
same buttons in the same rows), then drawn as a chat bubble with its inline keyboard under it,
and its length against Telegram's limit. Walkthroughs and step flows are drawn node by node.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from bot.directory import load_directory
from bot.guided.definitions import load_flows
from bot.guided.guide import Guide
from bot.guided.rendering import GuideRenderer
from bot.i18n import Catalogs
from bot.knowledge import KnowledgeBase, load_content
from bot.language.registry import LanguageRegistry
from bot.outgoing import Outgoing
from bot.rendering import TELEGRAM_LIMIT, Renderer
from bot.replies import FinderCategories, FlowStep, Reply, Said, TopicAnswer, WalkthroughNode
from bot.settings import Settings

WIDTH = 60  # about what a phone shows per line, in characters


def build_renderer(settings: Settings) -> Renderer:
    """The bot's renderer over the files as they are now (no database, no engine)."""
    root = settings.root
    content = load_content(root / "knowledge_base")
    languages = LanguageRegistry.load(root / "knowledge_base" / "languages.yml")
    knowledge = KnowledgeBase(content, settings.default_language, reviewed_only=settings.reviewed_only)
    guide = Guide(load_flows(root / "flows" / "guided", frozenset(content.topics)),
                  load_directory(root / "knowledge_base" / "services"), settings.country, settings.service_samples)
    return Renderer(knowledge, Catalogs.load(root / "locales", languages.codes), languages, settings.country,
                    settings.retention_days, GuideRenderer(knowledge, guide))


def replies_for(renderer: Renderer, name: str) -> list[Reply] | None:
    """What to preview for a topic id or a flow id (every step or node of it); None if neither."""
    if name in renderer.knowledge.topics:
        return [TopicAnswer(name)]
    if renderer.guide is None:
        return None
    flows = renderer.guide.guide.flows
    if name in flows.steps:
        return [FlowStep(name, index) for index in range(len(flows.steps[name].steps))]
    if name in flows.walkthroughs:
        walkthrough = flows.walkthroughs[name]
        ordered = [walkthrough.start, *(node for node in walkthrough.nodes if node != walkthrough.start)]
        return [WalkthroughNode(name, node) for node in ordered]
    if name in ("finder", "service_finder"):
        return [FinderCategories()]
    return None


def draw(outgoing: Outgoing, rtl: bool) -> str:
    """A chat bubble with the message and its buttons, one box per button, rows as Telegram lays them out."""
    lines = ["┌" + "─" * (WIDTH + 2) + "┐"]
    for paragraph in outgoing.text.split("\n"):
        wrapped = textwrap.wrap(paragraph, WIDTH, break_long_words=True, replace_whitespace=False) or [""]
        lines += [f"│ {_pad(line, WIDTH, rtl)} │" for line in wrapped]
    lines.append("└" + "─" * (WIDTH + 2) + "┘")
    for row in outgoing.buttons:
        width = max(8, (WIDTH + 4) // len(row) - 3)
        lines.append(" ".join(f"[{_pad(_fit(button.label, width), width, False, centre=True)}]" for button in row))
    for key_row in outgoing.keyboard:
        lines.append("keyboard: " + " | ".join(key.label for key in key_row))
    length = len(outgoing.text)
    verdict = "fits one message" if length <= TELEGRAM_LIMIT else "TOO LONG: Telegram refuses it"
    lines.append(f"{length} of {TELEGRAM_LIMIT} characters: {verdict}")
    return "\n".join(lines)


def _fit(label: str, width: int) -> str:
    return label if _width(label) <= width else label[: width - 1] + "…"


def _width(text: str) -> int:
    """Columns a terminal uses: wide East Asian characters take two, combining marks and isolates none."""
    return sum(0 if unicodedata.combining(c) or unicodedata.category(c) == "Cf"
               else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, rtl: bool, *, centre: bool = False) -> str:
    space = max(0, width - _width(text))
    if centre:
        return " " * (space // 2) + text + " " * (space - space // 2)
    return " " * space + text if rtl else text + " " * space


def previews(renderer: Renderer, name: str, languages: list[str]) -> Iterator[str]:
    """The drawings of `name` in each of `languages`, each headed by what it is."""
    replies = replies_for(renderer, name)
    if replies is None:
        raise KeyError(name)
    for language in languages:
        known = renderer.languages.get(language)
        rtl = known.rtl if known is not None else False
        for reply in replies:
            what = ", ".join(f"{value}" for value in vars(reply).values() if value != "") or type(reply).__name__
            yield f"── {what} · {language} ──\n{draw(renderer.render(Said(reply, language)), rtl)}"


def run(settings: Settings, name: str | None, languages: list[str]) -> int:
    renderer = build_renderer(settings)
    codes = list(renderer.languages.codes)
    if not name:
        flows = renderer.guide.guide.flows if renderer.guide else None
        print("Preview a topic or a flow: make preview TOPIC=rights_detention LANG=ar (LANG=all for every language)")
        print("Topics: " + ", ".join(renderer.knowledge.topics))
        if flows is not None:
            print("Flows: " + ", ".join([*flows.steps, *flows.walkthroughs, "finder"]))
        return 0
    unknown = [code for code in languages if code not in codes]
    if unknown:
        print(f"Unknown language {', '.join(unknown)}; this deployment speaks {', '.join(codes)}.")
        return 2
    try:
        for drawing in previews(renderer, name, languages or ["en"]):
            print(drawing + "\n")
    except KeyError:
        print(f"{name!r} is neither a topic nor a flow; run `make preview` for the list.")
        return 2
    return 0


def languages_argument(value: str | None, root: Path) -> list[str]:
    """`ar`, `ar,fa` or `all`."""
    if not value:
        return []
    if value == "all":
        return list(LanguageRegistry.load(root / "knowledge_base" / "languages.yml").codes)
    return [code.strip() for code in value.split(",") if code.strip()]
