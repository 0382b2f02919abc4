"""Replies -> text and buttons in the user's language. The only place text is assembled.

Text is always sent as plain text (never parse_mode), so nothing a user or editor writes can be
rendered as markup. In right-to-left languages, left-to-right fragments (URLs, phone numbers,
case numbers, dates) are wrapped in Unicode isolates so they keep their order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_date

from bot.callbacks import ButtonAction
from bot.guided.rendering import GuideRenderer
from bot.i18n import Catalogs, Translator
from bot.knowledge import KnowledgeBase
from bot.language.registry import LanguageRegistry
from bot.outgoing import Button, KeyboardButton, Outgoing
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
    Reply,
    Said,
    TopicAnswer,
    UnsupportedLanguage,
    WalkthroughNode,
)
from bot.telegram_limits import MESSAGE_LIMIT

TELEGRAM_LIMIT = MESSAGE_LIMIT
LRI, PDI = "\u2066", "\u2069"
_LTR_FRAGMENT = re.compile(
    r"(https?://[^\s]+|www\.[^\s]+|[\w.+-]+@[\w-]+\.[\w.]+|/[a-z_]+|\+?\d[\d\s\-./]*\d|\d)"
)
TOPIC_MENU_TOPICS = frozenset({"greet", "out_of_scope", "thanks", "goodbye"})
GUIDED = (FlowStep, WalkthroughNode, FinderCategories, FinderAskPlace, FinderResults)
MAX_RELATED = 3


def isolate_ltr(text: str) -> str:
    """Wrap left-to-right fragments in first-strong isolates, for right-to-left text."""
    return _LTR_FRAGMENT.sub(lambda match: f"{LRI}{match.group(0)}{PDI}", text)


@dataclass(frozen=True)
class Renderer:
    """Renders replies from the knowledge base and catalogs."""

    knowledge: KnowledgeBase
    catalogs: Catalogs
    languages: LanguageRegistry
    country: str
    retention_days: int
    guide: GuideRenderer | None = None

    def render(self, said: Said) -> Outgoing:
        language = said.language
        tr = self.catalogs.get(language)
        keyboard: list[list[KeyboardButton]] = []
        guided = None
        if isinstance(said.reply, GUIDED) and self.guide is not None:
            guided = self.guide.render(said.reply, language, tr, [self._human(tr), self._menu(tr)])
        if guided is not None:
            text, buttons, keyboard = guided
        else:
            text, buttons = self._compose(said.reply, language, tr)
        info = self.languages.get(language)
        rtl = bool(info and info.rtl)
        if rtl:
            text = isolate_ltr(text)
        if len(text) > TELEGRAM_LIMIT:
            text = text[: TELEGRAM_LIMIT - 1] + "…"
        return Outgoing(text, tuple(tuple(row) for row in buttons), language, rtl,
                        tuple(tuple(row) for row in keyboard))

    # --- building blocks -----------------------------------------------------------------------

    def _compose(self, reply: Reply, language: str, tr: Translator) -> tuple[str, list[list[Button]]]:
        match reply:
            case TopicAnswer(topic):
                return self._topic(topic, language, tr)
            case MainMenu():
                return self._answer_text("menu", language, tr), self.main_menu(tr)
            case AreaMenu(area):
                return self._area_intro(area, tr), self._area_menu(area, language, tr)
            case LanguageMenu():
                return tr._("Choose your language:"), self._language_rows()
            case Emergency():
                return self._emergency(language, tr), [[self._human(tr)], [self._menu(tr)]]
            case DidNotUnderstand(suggestions) if suggestions:
                rows = [[Button(self.knowledge.title(t, language), ButtonAction("topic", t))]
                        for t in suggestions]
                text = tr._("I am not sure I understood. Did you mean one of these?")
                return text, [*rows, [self._human(tr), self._menu(tr)]]
            case DidNotUnderstand():
                text = tr._("Sorry, I did not understand. Please write your question in other words, "
                            "or choose a topic:")
                return text, self.main_menu(tr)
            case EngineDown():
                text = "\n\n".join((
                    tr._("Sorry, I cannot answer right now because of a technical problem. "
                         "Please try again in a few minutes."),
                    tr._("You can also talk to a person, or choose a topic from the menu."),
                ))
                return text, [[self._human(tr), self._menu(tr)]]
            case UnsupportedLanguage():
                return self._unsupported()
            case Notice(kind, params):
                return self._notice(kind, params, language, tr)
            case FlowStep() | WalkthroughNode() | FinderCategories() | FinderAskPlace() | FinderResults():
                # A flow, node, category or place that no longer exists (content changed since the button).
                return self._notice("expired_button", {}, language, tr)
        raise ValueError(f"cannot render {reply!r}")

    def _topic(self, topic: str, language: str, tr: Translator) -> tuple[str, list[list[Button]]]:
        found = self.knowledge.entry(topic, language)
        if found is None and self.knowledge.withheld(topic):
            # This deployment serves reviewed answers only, and this one is not reviewed yet.
            return tr._("Our team is still checking this answer before sharing it. A person can help you now, "
                        "or you can choose another topic."), [[self._human(tr), self._menu(tr)]]
        if found is None:
            return tr._("Sorry, this answer is missing. Please choose another topic:"), self.main_menu(tr)
        entry, is_fallback = found
        info = self.knowledge.topics.get(topic)
        parts = []
        if is_fallback:
            note = tr._("This answer is not available in {language} yet, so here it is in English.")
            parts.append(note.format(language=self._language_name(language, language)))
        if info is not None and info.dated:
            parts.append(entry.title)
        parts.append(entry.answer)
        if info is not None and info.country_specific:
            parts.append(self._country_line(topic, language, tr))
        if info is not None and info.dated:
            parts.append(tr._("This is general information, not legal advice. For advice on your situation, "
                              "talk to a person."))
            if entry.sources:
                lines = [tr._("Sources:")]
                lines += [f"• {s.name}: {s.url}" if s.url else f"• {s.name}" for s in entry.sources]
                parts.append("\n".join(lines))
            parts.append(tr._("Last reviewed: {date}").format(
                date=format_date(entry.last_reviewed, format="long", locale=language)))
        if topic in TOPIC_MENU_TOPICS:
            return "\n\n".join(parts), self.main_menu(tr)
        rows = self._guided_rows(topic, language, tr) + [
            [Button(self.knowledge.title(related, language), ButtonAction("topic", related))]
            for related in entry.related if related in self.knowledge.topics
        ][:MAX_RELATED]
        last_row = [self._menu(tr)] if topic == "request_human" else [self._human(tr), self._menu(tr)]
        return "\n\n".join(parts), [*rows, last_row]

    def _country_line(self, topic: str, language: str, tr: Translator) -> str:
        """The deployment's country note for a law-dependent answer, or a plain "practice differs"."""
        profile = self.knowledge.country(self.country)
        note = self.knowledge.country_note(self.country, topic, language) if profile else None
        if profile is None or note is None:
            link = profile.help_page if profile else "https://help.unhcr.org/"
            return tr._("Rules and practice differ from country to country. Check what applies where you are: "
                        "{link}").format(link=link)
        country_name = self._country_name(profile.code, language)
        # TRANSLATORS: {country} is a country name on its own (Türkiye, Lebanon, the United Arab Emirates...);
        # choose a wording that needs no preposition before it, e.g. French "Ce qui s'applique ici ({country}) :".
        return tr._("What applies in {country}:").format(country=country_name) + "\n" + note[0]

    def _guided_rows(self, topic: str, language: str, tr: Translator) -> list[list[Button]]:
        """Buttons that start the flows offered under this answer, and the finder for a service topic."""
        if self.guide is None:
            return []
        flows = self.guide.guide.flows
        rows = [[self.guide.flow_button(flow.id, language)] for flow in flows.offered_under(topic)]
        for category, category_topic in flows.finder.categories.items():
            if category_topic == topic:
                rows.append([self._finder(tr, category)])
        return rows

    def _finder(self, tr: Translator, category: str = "") -> Button:
        return Button(tr.p_("button", "📍 Find a place near me"), ButtonAction("finder", category))

    def _country_name(self, code: str, language: str) -> str:
        return str(Locale.parse(language).territories.get(code, code))

    def _answer_text(self, topic: str, language: str, tr: Translator) -> str:
        found = self.knowledge.entry(topic, language)
        return found[0].answer if found else tr._("Choose a topic:")

    def _area_intro(self, area: str, tr: Translator) -> str:
        return {
            "rights": tr._("Your rights. Choose a topic:"),
            "asylum": tr._("The steps of asylum. Choose a topic:"),
            "services": tr._("Services that can help. Choose a topic:"),
        }.get(area, tr._("Choose a topic:"))

    def _area_menu(self, area: str, language: str, tr: Translator) -> list[list[Button]]:
        buttons = [Button(self.knowledge.title(t.id, language), ButtonAction("topic", t.id))
                   for t in self.knowledge.topics_in(area)]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        guided: list[list[Button]] = []
        if self.guide is not None:
            guided = [[self.guide.flow_button(flow.id, language)] for flow in self.guide.guide.flows.in_area(area)]
            if area == self.guide.guide.flows.finder.entry:
                guided.append([self._finder(tr)])
        return [*guided, *rows, [self._menu(tr)]]

    def main_menu(self, tr: Translator) -> list[list[Button]]:
        return [
            [Button(tr.p_("main menu button", "Rights"), ButtonAction("area", "rights")),
             Button(tr.p_("main menu button", "Asylum steps"), ButtonAction("area", "asylum"))],
            [Button(tr.p_("main menu button", "Find services"), ButtonAction("area", "services")),
             self._human(tr)],
            [Button(tr.p_("main menu button", "Language"), ButtonAction("languages"))],
        ]

    def _language_rows(self) -> list[list[Button]]:
        buttons = [Button(lang.native, ButtonAction("language", lang.code))
                   for lang in self.languages.languages]
        return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]

    def _human(self, tr: Translator) -> Button:
        return Button(tr.p_("button", "Talk to a person"), ButtonAction("human"))

    def _menu(self, tr: Translator) -> Button:
        return Button(tr.p_("button", "Menu"), ButtonAction("menu"))

    def _emergency(self, language: str, tr: Translator) -> str:
        parts = [self._answer_text("emergency", language, tr)]
        profile = self.knowledge.country(self.country)
        if profile is None or not profile.emergency_numbers:
            parts.append(tr._("Call your local emergency number now."))
            return "\n\n".join(parts)
        country_name = self._country_name(profile.code, language)
        lines = [tr._("Emergency numbers in {country}:").format(country=country_name)]
        for number in profile.emergency_numbers:
            lines.append(f"☎ {number.number} — {self._service_label(number.service, tr)}")
        sources = sorted({n.source.url for n in profile.emergency_numbers if n.source.url})
        if sources:
            lines.append(tr._("Source: {source}").format(source=", ".join(sources)))
        parts.append("\n".join(lines))
        return "\n\n".join(parts)

    def _service_label(self, service: str, tr: Translator) -> str:
        return {
            "all": tr._("all emergencies: police, ambulance, fire"),
            "police": tr._("police"),
            "ambulance": tr._("ambulance"),
            "fire": tr._("fire"),
        }.get(service, service)

    def _unsupported(self) -> tuple[str, list[list[Button]]]:
        # Shown in English and Arabic, the two languages most users here can read.
        en, ar = self.catalogs.get("en"), self.catalogs.get("ar")
        texts = [
            tr._("Sorry, I cannot write in this language yet. Please choose one of these languages, "
                 "or talk to a person.")
            for tr in (en, ar)
        ]
        text = f"{texts[0]}\n\n{isolate_ltr(texts[1])}"
        person = Button(f"{en.p_('button', 'Talk to a person')} / {ar.p_('button', 'Talk to a person')}",
                        ButtonAction("human"))
        return text, [*self._language_rows(), [person]]

    def _language_name(self, code: str, in_language: str) -> str:
        info = self.languages.get(code)
        try:
            name = Locale.parse(code).get_display_name(in_language)
        except (ValueError, TypeError):
            name = None
        return name or (info.native if info else code)

    def _notice(self, kind: str, params: dict[str, str], language: str,
                tr: Translator) -> tuple[str, list[list[Button]]]:
        menu = self.main_menu(tr)
        if kind == "welcome":
            return "\n\n".join((self._answer_text("greet", language, tr), self._retention(tr), tr._(
                "I give general information, not legal advice. /privacy tells more; /forget deletes everything."
            ))), menu
        if kind == "privacy":
            text = "\n\n".join((self._answer_text("privacy", language, tr), self._retention(tr)))
            return text, [[self._human(tr), self._menu(tr)]]
        if kind == "forget_confirm":
            text = self._answer_text("delete_my_data", language, tr) + "\n\n" + tr._("This cannot be undone.")
            return text, [[Button(tr.p_("button", "Yes, delete everything"), ButtonAction("forget", "yes")),
                            Button(tr.p_("button", "No, keep it"), ButtonAction("forget", "no"))]]
        if kind == "language_set":
            name = self._language_name(language, language)
            return tr._("From now on I will write in {language}.").format(language=name), []
        if kind == "forgotten":
            return tr._("Done. I deleted everything stored about you. If you write again, I start from zero."), []
        if kind in {"flood", "flood_handoff", "banned"}:
            return self._abuse_notice(kind, language, tr), []  # no buttons: nothing invites more presses
        if kind == "media":
            text = tr._("I cannot open photos, voice messages, videos or files. Please write your question in a "
                        "few words, or choose a topic. You can also talk to a person.")
            return text, [[self._human(tr)], *menu[:2]]
        texts = {
            "help": tr._("What you can write:\n"
                         "/menu: the main menu\n"
                         "/language: change the language\n"
                         "/human: talk to a person\n"
                         "/privacy: what I store about you\n"
                         "/forget: delete everything stored about you\n"
                         "Or simply write your question in your own words."),
            "no_words": tr._("I could not find any words in your message. Please write your question in a few "
                             "words, or choose a topic:"),
            "not_text": tr._("I can only read text messages. Please write your question in a few words, or "
                             "choose a topic:"),
            "location": tr._("Thank you. I cannot use locations yet. Please write the name of your city with your "
                             "question, or choose a topic:"),
            "unknown_command": tr._("I do not know the command {command}. You can use /menu, /language, /human, "
                                    "/privacy, /forget or /help, or simply write your question."),
            "expired_button": tr._("This button is no longer valid. Here is the menu:"),
            "not_forgotten": tr._("Nothing was deleted."),
        }
        if kind not in texts:
            raise ValueError(f"unknown notice {kind!r}")
        text = texts[kind]
        if kind == "unknown_command":
            text = text.format(command=params.get("command", ""))
        return text, menu

    def _abuse_notice(self, kind: str, language: str, tr: Translator) -> str:
        if kind == "flood":
            return tr._("You are sending messages very fast. Please wait a minute, then write again.")
        if kind == "flood_handoff":
            return tr._("You are sending messages very fast. This message and those you send in the next minute "
                        "do not reach the volunteer. Please wait a minute, then send them again.")
        # TRANSLATORS: sent once to a person a coordinator banned; neutral on purpose, no reason given.
        # The emergency answer and numbers follow it.
        return tr._("This assistant can no longer answer your messages.") + "\n\n" + self._emergency(language, tr)

    def _retention(self, tr: Translator) -> str:
        days = self.retention_days
        return tr.n_(
            "I keep your language choice and our recent conversation under a random code, never your name or "
            "number, for {days} day.",
            "I keep your language choice and our recent conversation under a random code, never your name or "
            "number, for {days} days.",
            days,
        ).format(days=days)
