"""Language detection and resolution."""

from pathlib import Path

import pytest

from bot.language.detection import LanguageDetector
from bot.language.registry import LanguageRegistry
from bot.language.resolver import LanguageResolver
from bot.settings import ROOT

REGISTRY = LanguageRegistry.load(ROOT / "knowledge_base" / "languages.yml")


@pytest.fixture(scope="module")
def resolver() -> LanguageResolver:
    detector = LanguageDetector({lang.code: lang.prior for lang in REGISTRY.languages})
    return LanguageResolver(REGISTRY, detector, "en")


@pytest.mark.parametrize(("text", "expected"), [
    ("كيف أقدم طلب لجوء؟", "ar"),
    ("I was arrested, what are my rights?", "en"),
    ("Je veux demander l'asile, comment faire ?", "fr"),
    ("من می خواهم درخواست پناهندگی بدهم", "fa"),
    ("مجھے پناہ کی درخواست دینی ہے", "ur"),
    ("Waxaan rabaa inaan codsado magangalyo", "so"),
])
def test_a_new_user_is_answered_in_the_language_they_write(
        resolver: LanguageResolver, text: str, expected: str) -> None:
    assert resolver.resolve(text).language == expected


@pytest.mark.parametrize("text", [
    ("mujhe madad chahiye", "ur"), ("mera pasport gum ho gaya hai", "ur"),
    ("kif a2addem talab lujoo2", "ar"), ("bdi a7ki ma3 shi 7ada", "ar"),
])
def test_arabic_and_urdu_in_latin_letters_are_recognised(resolver: LanguageResolver, text: tuple[str, str]) -> None:
    assert resolver.resolve(text[0], telegram_hint="en").language == text[1]


@pytest.mark.parametrize("text", ["ok merci beaucoup", "B2 level class", "I am 7 months pregnant",
                                  "Je suis à Istanbul depuis 2 ans"])
def test_short_text_in_a_supported_language_is_never_called_unsupported(resolver: LanguageResolver, text: str) -> None:
    assert resolver.resolve(text).unsupported is None


@pytest.mark.parametrize("short", ["ok", "merci", "123", "😀👍", "thanks", "?", "UNHCR"])
def test_a_short_message_never_flips_the_conversation_language(resolver: LanguageResolver, short: str) -> None:
    resolution = resolver.resolve(short, previous="ar", telegram_hint="en")
    assert resolution.language == "ar"


def test_an_explicit_choice_wins_over_detection(resolver: LanguageResolver) -> None:
    assert resolver.resolve("I was arrested, what are my rights?", chosen="fa").language == "fa"


def test_a_reliable_detection_wins_over_telegram_and_the_previous_language(resolver: LanguageResolver) -> None:
    resolution = resolver.resolve("كيف أقدم طلب لجوء في تركيا؟", telegram_hint="en", previous="fr")
    assert (resolution.language, resolution.source) == ("ar", "detected")


def test_telegram_language_opens_a_new_conversation_when_the_text_says_nothing(resolver: LanguageResolver) -> None:
    assert resolver.resolve("ok", telegram_hint="ar-SY").language == "ar"


def test_english_is_the_last_resort(resolver: LanguageResolver) -> None:
    assert resolver.resolve("👍").language == "en"


@pytest.mark.parametrize("text", ["Hola, necesito ayuda con mi solicitud de asilo por favor",
                                  "Здравствуйте, мне нужна помощь с документами",
                                  "Merhaba, sığınma başvurusu nasıl yapılır?"])
def test_an_unsupported_language_is_named_and_answered_in_a_supported_one(
        resolver: LanguageResolver, text: str) -> None:
    resolution = resolver.resolve(text, previous="ar")
    assert resolution.unsupported is not None and resolution.unsupported not in REGISTRY.codes
    assert resolution.language == "ar"


def test_script_rules_recognise_languages_langdetect_lacks() -> None:
    detector = LanguageDetector({"en": 1.0, "ps": 1.0, "am": 1.0, "ti": 1.0})
    assert detector.detect("زه د پناه غوښتنه کول غواړم").language == "ps"
    assert detector.detect("እኔ ጥገኝነት እፈልጋለሁ ምን ላድርግ").language == "am"
    assert detector.detect("ኣነ ዑቕባ ክሓትት ደልየ ኣለኹ ከመይ").language == "ti"


def test_a_language_added_by_content_only_is_resolved(tmp_path: Path) -> None:
    languages = tmp_path / "languages.yml"
    languages.write_text("en: {name: English, native: English, answers: complete}\n"
                         "tr: {name: Turkish, native: Türkçe, answers: partial}\n")
    registry = LanguageRegistry.load(languages)
    detector = LanguageDetector({lang.code: lang.prior for lang in registry.languages})
    resolver = LanguageResolver(registry, detector, "en")
    assert resolver.resolve("Merhaba, sığınma başvurusu nasıl yapılır?").language == "tr"
    assert registry.get("tr") is not None and not registry.get("tr").rtl  # type: ignore[union-attr]


def test_right_to_left_languages_are_known() -> None:
    right_to_left = {lang.code for lang in REGISTRY.languages if lang.rtl}
    assert {"ar", "fa", "ur"} <= right_to_left and not right_to_left & {"en", "fr", "so"}
