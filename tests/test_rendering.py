"""Rendering: the user's language, right-to-left isolation, buttons and limits."""

import dataclasses

from bot.knowledge import KnowledgeBase
from bot.rendering import LRI, PDI, TELEGRAM_LIMIT, isolate_ltr
from bot.replies import (
    DidNotUnderstand,
    Emergency,
    EngineDown,
    LanguageMenu,
    MainMenu,
    Notice,
    Said,
    TopicAnswer,
    UnsupportedLanguage,
)
from bot.services import Services


def test_urls_numbers_and_commands_are_isolated_in_right_to_left_text() -> None:
    text = isolate_ltr("اتصل على 112 أو زر https://help.unhcr.org/ ثم اكتب /menu")
    assert f"{LRI}112{PDI}" in text
    assert f"{LRI}https://help.unhcr.org/{PDI}" in text
    assert f"{LRI}/menu{PDI}" in text


async def test_an_arabic_answer_is_arabic_isolated_dated_and_has_buttons(services: Services) -> None:
    out = services.renderer.render(Said(TopicAnswer("asylum_registration"), "ar"))
    entry, _ = services.knowledge.entry("asylum_registration", "ar")  # type: ignore[misc]
    assert out.rtl and entry.title in out.text and LRI in out.text
    assert "آخر مراجعة" in out.text or "مراجعة" in out.text
    labels = [b.label for row in out.buttons for b in row]
    assert "القائمة" in " ".join(labels) or len(labels) >= 2


async def test_a_missing_translation_says_so_in_the_users_language(services: Services) -> None:
    content = services.knowledge.content
    without_french = dataclasses.replace(content, entries={
        key: entry for key, entry in content.entries.items() if key != ("rights_detention", "fr")})
    renderer = dataclasses.replace(services.renderer, knowledge=KnowledgeBase(without_french))
    out = renderer.render(Said(TopicAnswer("rights_detention"), "fr"))
    english, _ = services.knowledge.entry("rights_detention", "en")  # type: ignore[misc]
    assert english.answer in out.text
    assert "anglais" in out.text.lower()


async def test_the_main_menu_has_the_five_entries(services: Services) -> None:
    out = services.renderer.render(Said(MainMenu(), "en"))
    labels = [b.label for row in out.buttons for b in row]
    assert labels == ["Rights", "Asylum steps", "Find services", "Talk to a person", "Language"]


async def test_the_language_menu_lists_every_language_in_its_own_script(services: Services) -> None:
    out = services.renderer.render(Said(LanguageMenu(), "en"))
    assert [b.label for row in out.buttons for b in row] == [
        "English", "العربية", "Français", "فارسی", "اردو", "Soomaali"]


async def test_emergency_shows_the_configured_countrys_number_with_its_source(services: Services) -> None:
    out = services.renderer.render(Said(Emergency(), "ar"))
    assert f"{LRI}112{PDI}" in out.text and "112.gov.tr" in out.text and "تركيا" in out.text


async def test_the_engine_down_apology_offers_a_person(services: Services) -> None:
    out = services.renderer.render(Said(EngineDown(), "fa"))
    assert any(b.data == "h" for row in out.buttons for b in row)
    assert "ببخشید" in out.text


async def test_an_unsupported_language_is_answered_in_english_and_arabic(services: Services) -> None:
    out = services.renderer.render(Said(UnsupportedLanguage("es"), "en"))
    assert "cannot write in this language" in out.text and "عذرا" in out.text
    assert any(b.data == "l:ar" for row in out.buttons for b in row)


async def test_did_not_understand_offers_the_best_guesses(services: Services) -> None:
    out = services.renderer.render(Said(DidNotUnderstand(("rights_police", "rights_detention")), "en"))
    assert [b.data for row in out.buttons for b in row][:2] == ["t:rights_police", "t:rights_detention"]


async def test_every_notice_renders_in_every_language_within_telegrams_limit(services: Services) -> None:
    kinds = ["welcome", "help", "privacy", "no_words", "not_text", "media", "location", "unknown_command",
             "expired_button", "language_set", "forget_confirm", "forgotten", "not_forgotten"]
    for language in services.languages.codes:
        for kind in kinds:
            out = services.renderer.render(Said(Notice(kind, {"command": "/x"}), language))  # type: ignore[arg-type]
            assert out.text and len(out.text) <= TELEGRAM_LIMIT
        for topic in services.knowledge.topics:
            assert len(services.renderer.render(Said(TopicAnswer(topic), language)).text) <= TELEGRAM_LIMIT


async def test_the_welcome_states_retention_with_the_right_plural(services: Services) -> None:
    out = services.renderer.render(Said(Notice("welcome"), "en"))
    assert "for 30 days" in out.text and "not legal advice" in out.text
