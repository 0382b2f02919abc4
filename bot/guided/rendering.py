"""Guided-flow replies -> text and buttons: steps, walkthrough questions and outcomes, the service finder.

Texts of steps and walkthroughs come from knowledge_base/<lang>/flows.yml; the finder's interface
strings from the catalogs; service names, addresses and websites are shown as written in the
directory. Opening hours, languages, distances and dates are formatted for the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale
from babel.dates import format_date, get_day_names
from babel.numbers import format_decimal

from bot.callbacks import ButtonAction
from bot.directory import Found, parse_hours
from bot.guided.guide import Guide, Place
from bot.i18n import Translator
from bot.knowledge import KnowledgeBase
from bot.outgoing import Button, KeyboardButton
from bot.replies import FinderAskPlace, FinderCategories, FinderResults, FlowStep, WalkthroughNode

Rows = list[list[Button]]
Keyboard = list[list[KeyboardButton]]


@dataclass(frozen=True)
class GuideRenderer:
    knowledge: KnowledgeBase
    guide: Guide

    def render(self, reply: FlowStep | WalkthroughNode | FinderCategories | FinderAskPlace | FinderResults,
               language: str, tr: Translator, last_row: list[Button]) -> tuple[str, Rows, Keyboard] | None:
        """Text, inline buttons and reply keyboard; None when the reply names nothing that exists."""
        match reply:
            case FlowStep(flow, index):
                return self._step(flow, index, language, tr, last_row)
            case WalkthroughNode(flow, node):
                return self._node(flow, node, language, tr, last_row)
            case FinderCategories(place):
                return self._categories(place, language, tr, last_row)
            case FinderAskPlace(category):
                return self._ask_place(category, language, tr)
            case FinderResults():
                return self._results(reply, language, tr, last_row)
        return None

    # --- step by step and walkthroughs ---------------------------------------------------------

    def flow_button(self, flow_id: str, language: str) -> Button:
        """The button that starts a flow, labelled with its title."""
        if flow_id in self.guide.flows.steps:
            return Button(self._text(f"{flow_id}.title", language), ButtonAction("steps", f"{flow_id}:0"))
        walk = self.guide.flows.walkthroughs[flow_id]
        return Button(self._text(f"{flow_id}.title", language), ButtonAction("walk", f"{flow_id}:{walk.start}"))

    def _step(self, flow_id: str, index: int, language: str, tr: Translator,
              last_row: list[Button]) -> tuple[str, Rows, Keyboard] | None:
        flow = self.guide.flows.steps.get(flow_id)
        if flow is None or not 0 <= index < len(flow.steps):
            return None
        step = flow.steps[index]
        heading = tr._("Step {number} of {total}: {title}").format(
            number=index + 1, total=len(flow.steps), title=self._text(f"{flow_id}.{step.id}.title", language))
        text = f"{heading}\n\n{self._text(f'{flow_id}.{step.id}.text', language)}"
        moves = []
        if index > 0:
            moves.append(Button(tr.p_("button", "◀ Back"), ButtonAction("steps", f"{flow_id}:{index - 1}")))
        if index + 1 < len(flow.steps):
            moves.append(Button(tr.p_("button", "Next ▶"), ButtonAction("steps", f"{flow_id}:{index + 1}")))
        more = Button(tr.p_("button", "Read more: {title}").format(title=self.knowledge.title(step.topic, language)),
                      ButtonAction("topic", step.topic))
        return text, [moves, [more], last_row], []

    def _node(self, flow_id: str, node_id: str, language: str, tr: Translator,
              last_row: list[Button]) -> tuple[str, Rows, Keyboard] | None:
        walk = self.guide.flows.walkthroughs.get(flow_id)
        node = walk.nodes.get(node_id) if walk else None
        if walk is None or node is None:
            return None
        text = self._text(f"{flow_id}.{node_id}.text", language)
        if node.is_question:
            rows = [[Button(self._text(f"{flow_id}.{node_id}.{option}", language),
                            ButtonAction("walk", f"{flow_id}:{target}"))] for option, target in node.options]
            return text, [*rows, last_row], []
        text += "\n\n" + tr._("This is general information, not legal advice. For advice on your situation, "
                              "talk to a person.")
        rows = [[Button(self.knowledge.title(topic, language), ButtonAction("topic", topic))]
                for topic in node.topics]
        again = Button(tr.p_("button", "Start again"), ButtonAction("walk", f"{flow_id}:{walk.start}"))
        return text, [*rows, [again], last_row], []

    def _text(self, key: str, language: str) -> str:
        return self.knowledge.flow_text(key, language)

    # --- the service finder --------------------------------------------------------------------

    def category_label(self, category: str, language: str) -> str:
        return self.knowledge.title(self.guide.flows.finder.categories[category], language)

    def _categories(self, place_code: str, language: str, tr: Translator,
                    last_row: list[Button]) -> tuple[str, Rows, Keyboard] | None:
        if place_code and self.guide.place(place_code) is None:
            return None
        suffix = f":{place_code}:0" if place_code else ""
        buttons = [Button(self.category_label(category, language), ButtonAction("finder", category + suffix))
                   for category in self.guide.flows.finder.categories]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        return tr._("What kind of help are you looking for?"), [*rows, last_row], []

    def _ask_place(self, category: str, language: str, tr: Translator) -> tuple[str, Rows, Keyboard] | None:
        if category not in self.guide.flows.finder.categories:
            return None
        text = tr._("{category}: in which city are you? Write the name of your city, or press “Share my "
                    "location” below.").format(category=self.category_label(category, language))
        cities = [KeyboardButton(city.names[0]) for city in self.guide.known_cities()]
        keyboard = [[KeyboardButton(tr.p_("button", "📍 Share my location"), request_location=True)]]
        keyboard += [cities[i:i + 3] for i in range(0, len(cities), 3)]
        return text, [], keyboard

    def _results(self, reply: FinderResults, language: str, tr: Translator,
                 last_row: list[Button]) -> tuple[str, Rows, Keyboard] | None:
        if reply.category not in self.guide.flows.finder.categories:
            return None
        place = self.guide.place(reply.place) if reply.place else None
        if reply.place and place is None:
            return None
        page = self.guide.page(reply.category, place, reply.page)
        label = self.category_label(reply.category, language)
        parts = [self._heading(label, place, reply.unknown_place, page.local, tr)]
        if not page.found:
            parts.append(tr._("I have no service of this kind listed yet. UNHCR's page for this country lists "
                              "more: {link}").format(link=self._help_page()))
        for number, found in enumerate(page.found, page.page * self.guide.flows.finder.page_size + 1):
            parts.append(self._service(number, found, language, tr))
        rows: Rows = []
        if place is not None and page.page + 1 < page.pages:
            more = f"{reply.category}:{place.code}:{page.page + 1}"
            rows.append([Button(tr.p_("button", "More ▸"), ButtonAction("finder", more))])
        other = f":{place.code}" if place is not None else ""
        rows.append([Button(tr.p_("button", "Other kind of help"), ButtonAction("finder", other))])
        return "\n\n".join(parts), [*rows, last_row], []

    def _heading(self, label: str, place: Place | None, unknown: bool, local: int, tr: Translator) -> str:
        if unknown:
            return tr._("{category}: I do not know services in this city yet. These help in the whole "
                        "country:").format(category=label)
        if place is None:
            return tr._("{category}:").format(category=label)
        if place.city is not None and not local:
            return tr._("{category}: no service of this kind is listed in {city} yet. These help in the whole "
                        "country:").format(category=label, city=place.city.names[0])
        if place.city is not None:
            return tr._("{category} in {city}:").format(category=label, city=place.city.names[0])
        return tr._("{category} near you, closest first:").format(category=label)

    def _service(self, number: int, found: Found, language: str, tr: Translator) -> str:
        service = found.service
        lines = [f"{number}. {service.name}"]
        if service.sample:
            lines.append("⚠ " + tr._("Example entry for testing: this is not a real service."))
        where = []
        if found.distance_km is not None:
            distance = format_decimal(round(found.distance_km, 1), format="#,##0.0", locale=language)
            where.append(tr._("{distance} km away").format(distance=distance))
        if service.address:
            where.append(service.address)
        if service.city is None:
            where.append(tr._("Online, for every country") if service.country is None
                         else tr._("For the whole country"))
        lines.append("📍 " + " · ".join(where))
        if service.hours:
            lines.append("🕘 " + tr._("Hours: {hours}").format(hours=format_hours(service.hours, language)))
        if service.languages:
            lines.append("🗣 " + tr._("Languages: {languages}").format(
                languages=", ".join(language_name(code, language) for code in service.languages)))
        if service.phone:
            lines.append(f"☎ {service.phone}")
        if service.website:
            lines.append(f"🌐 {service.website}")
        lines.append("✔ " + tr._("Last verified: {date}").format(
            date=format_date(service.last_verified, format="long", locale=language)))
        return "\n".join(lines)

    def _help_page(self) -> str:
        profile = self.knowledge.country(self.guide.country)
        return profile.help_page if profile else "https://help.unhcr.org/"


def format_hours(hours: str, language: str) -> str:
    """'Mo-Fr 09:00-17:00; Sa 10:00-14:00' in the user's language, e.g. 'lun.–ven. 09:00–17:00; sam. …'."""
    days = get_day_names("abbreviated", locale=language)
    parts = []
    for first, last, spans in parse_hours(hours):
        named = days[first] if first == last else f"{days[first]}–{days[last]}"
        parts.append(f"{named} {', '.join(span.replace('-', '–') for span in spans)}")
    return "; ".join(parts)


def language_name(code: str, in_language: str) -> str:
    try:
        return Locale.parse(in_language).languages.get(code) or code
    except (ValueError, TypeError):
        return code
