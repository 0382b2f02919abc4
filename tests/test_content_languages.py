"""The launch content: every topic and flow in all six languages, country profiles and notes, rendered as sent."""

from pathlib import Path

import pytest

from bot.countries import load_countries
from bot.directory import load_directory
from bot.guided.definitions import load_flows
from bot.guided.guide import Guide
from bot.guided.rendering import GuideRenderer
from bot.i18n import Catalogs
from bot.knowledge import KnowledgeBase, load_content
from bot.language.registry import LanguageRegistry
from bot.rendering import LRI, PDI, TELEGRAM_LIMIT, Renderer
from bot.replies import FlowStep, Said, TopicAnswer, WalkthroughNode
from bot.settings import ROOT

LAUNCH = ("en", "ar", "fr", "fa", "ur", "so")
PROFILES = ("TR", "JO", "LB", "EG", "MY", "ID", "PK", "SA", "AE")
CONTENT = load_content(ROOT / "knowledge_base")
LANGUAGES = LanguageRegistry.load(ROOT / "knowledge_base" / "languages.yml")
FLOWS = load_flows(ROOT / "flows" / "guided", frozenset(CONTENT.topics))


def renderer(country: str) -> Renderer:
    knowledge = KnowledgeBase(CONTENT)
    guide = Guide(FLOWS, load_directory(ROOT / "knowledge_base" / "services"), country, samples=False)
    return Renderer(knowledge, Catalogs.load(ROOT / "locales", LANGUAGES.codes), LANGUAGES, country, 30,
                    GuideRenderer(knowledge, guide))


def test_every_launch_language_is_complete() -> None:
    assert {lang.code for lang in LANGUAGES.languages if lang.answers_complete} >= set(LAUNCH)
    for language in LAUNCH:
        missing = [topic for topic in CONTENT.topics if (topic, language) not in CONTENT.entries]
        assert missing == [], f"{language}: {missing}"


@pytest.mark.parametrize("language", LAUNCH)
def test_every_topic_reads_in_its_own_language_and_fits_one_message(language: str) -> None:
    render = renderer("TR").render
    english_note = "is not available in"
    for topic in CONTENT.topics:
        outgoing = render(Said(TopicAnswer(topic), language))
        assert english_note not in outgoing.text
        assert len(outgoing.text) < TELEGRAM_LIMIT, f"{topic} in {language} would be cut"
        assert outgoing.buttons, f"{topic} in {language} offers no way forward"


@pytest.mark.parametrize("language", LAUNCH)
def test_every_content_answer_says_once_that_it_is_not_legal_advice(language: str) -> None:
    render = renderer("TR").render
    disclaimer = renderer("TR").catalogs.get(language)._(
        "This is general information, not legal advice. For advice on your situation, talk to a person.")
    for topic in (t for t in CONTENT.topics.values() if t.dated):
        assert render(Said(TopicAnswer(topic.id), language)).text.count(disclaimer) == 1


@pytest.mark.parametrize("country", PROFILES)
def test_law_dependent_answers_carry_the_note_of_the_deployments_country(country: str) -> None:
    for language in LAUNCH:
        render = renderer(country).render
        for topic in (t for t in CONTENT.topics.values() if t.country_specific):
            note = CONTENT.texts.get((language, f"note:{country}:{topic.id}"))
            assert note is not None, f"{country} note on {topic.id} missing in {language}"
            shown = render(Said(TopicAnswer(topic.id), language)).text
            assert note.text in shown.replace(LRI, "").replace(PDI, "")


def test_without_a_profile_the_answer_says_practice_differs_and_links_unhcr_help() -> None:
    text = renderer("XX").render(Said(TopicAnswer("rights_detention"), "en")).text
    assert "differ from country to country" in text and "https://help.unhcr.org/" in text


def test_every_country_profile_sources_each_fact() -> None:
    profiles = load_countries(ROOT / "knowledge_base" / "countries")
    assert set(PROFILES) <= set(profiles)
    for code in PROFILES:
        profile = profiles[code]
        assert profile.emergency_numbers, code
        assert all(number.source.url for number in profile.emergency_numbers), code
        assert profile.convention is not None and profile.convention.source is not None, code
        assert profile.registration is not None and profile.registration.source is not None, code
        assert profile.help_page.startswith("https://help.unhcr.org/"), code


@pytest.mark.parametrize("language", LAUNCH)
def test_every_flow_text_exists_natively_and_renders(language: str) -> None:
    missing = [key for key in FLOWS.text_keys() if (language, f"flow:{key}") not in CONTENT.texts]
    assert missing == []
    render = renderer("TR").render
    for flow in FLOWS.steps.values():
        for index in range(len(flow.steps)):
            assert render(Said(FlowStep(flow.id, index), language)).buttons
    for walk in FLOWS.walkthroughs.values():
        for node in walk.nodes:
            outgoing = render(Said(WalkthroughNode(walk.id, node), language))
            assert outgoing.buttons and len(outgoing.text) < TELEGRAM_LIMIT


def test_every_walkthrough_node_can_be_reached_and_every_question_leads_to_an_outcome() -> None:
    for walk in FLOWS.walkthroughs.values():
        reached, frontier = {walk.start}, [walk.start]
        while frontier:
            for _, target in walk.nodes[frontier.pop()].options:
                if target not in reached:
                    reached.add(target)
                    frontier.append(target)
        assert reached == set(walk.nodes), walk.id


def test_every_entry_is_marked_with_its_review_status() -> None:
    assert all(entry.review for entry in CONTENT.entries.values())
    for path in (ROOT / "knowledge_base" / "services").glob("*.yml"):
        assert "review:" in Path(path).read_text(encoding="utf-8")
