"""Danger phrases are recognised before and without the engine, in every language."""

from pathlib import Path

import pytest
import yaml

from bot.emergency import EmergencyRules, normalise, parse_phrase_file
from bot.settings import ROOT

FOLDER = ROOT / "knowledge_base" / "emergency"


@pytest.fixture(scope="module")
def rules() -> EmergencyRules:
    return EmergencyRules.load(FOLDER)


def test_every_language_of_the_deployment_has_danger_phrases() -> None:
    languages = yaml.safe_load((ROOT / "knowledge_base" / "languages.yml").read_text())
    assert {code for code in languages} <= {path.stem for path in FOLDER.glob("*.yml")}


@pytest.mark.parametrize("path", sorted(FOLDER.glob("*.yml")), ids=lambda p: p.stem)
def test_each_file_recognises_its_danger_messages_and_spares_its_questions(path: Path) -> None:
    phrases = parse_phrase_file(path)
    if not phrases:
        pytest.skip(f"{path.name} is a new language's skeleton; check-content warns that it has no phrases")
    own = EmergencyRules(phrases)
    tests = yaml.safe_load(path.read_text())["tests"]
    assert len(tests["match"]) >= 10 and len(tests["no_match"]) >= 10
    assert [t for t in tests["match"] if own.match(t) is None] == []
    assert [t for t in tests["no_match"] if own.match(t) is not None] == []


@pytest.mark.parametrize("text", [
    "please help they are beating me",
    "بدي انتحر",
    "عم يضربوني هلق",
    "I want to kill myself",
])
def test_danger_is_recognised_whatever_the_language(rules: EmergencyRules, text: str) -> None:
    assert rules.match(text) is not None


@pytest.mark.parametrize("text", [
    "I was arrested, what are my rights?",
    "كيف أقدم طلب لجوء؟",
    "what happens at the asylum interview",
    "ok",
])
def test_ordinary_questions_are_not_emergencies(rules: EmergencyRules, text: str) -> None:
    assert rules.match(text) is None


def test_normalisation_folds_letter_variants_and_diacritics() -> None:
    assert normalise("أنا في خَطَر!!") == normalise("انا في خطر")
    assert normalise("Expulsé MAINTENANT") == ["expulse", "maintenant"]


def test_a_star_matches_word_endings(tmp_path: Path) -> None:
    path = tmp_path / "xx.yml"
    path.write_text("language: xx\ncategories:\n  violence: ['stab*']\n")
    rules = EmergencyRules(parse_phrase_file(path))
    assert rules.match("he is stabbing me") is not None
    assert rules.match("a stable job") is not None  # why prefix phrases must be chosen with care
    assert rules.match("establish") is None


@pytest.mark.parametrize("word", ["emergency", "urgence", "طوارئ", "اضطراری", "ایمرجنسی", "degdeg", "SOS!"])
def test_the_word_the_answers_tell_people_to_write_opens_the_emergency_answer(
        rules: EmergencyRules, word: str) -> None:
    assert rules.match(word) is not None


@pytest.mark.parametrize("text", ["emergency numbers in turkey", "what is an urgence procedure", "help"])
def test_those_words_inside_a_question_are_left_to_the_model(rules: EmergencyRules, text: str) -> None:
    assert rules.match(text) is None
