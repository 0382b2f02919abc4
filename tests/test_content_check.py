"""`make check-content` passes on the repository and explains each problem it is fed."""

from pathlib import Path

import yaml

from bot.content_check import check_all
from bot.settings import ROOT


def test_the_repository_content_has_no_errors() -> None:
    errors = [p for p in check_all(ROOT) if p.severity == "error"]
    assert errors == []




def messages(root: Path) -> str:
    return "\n".join(f"{p.where}: {p.message}" for p in check_all(root) if p.severity == "error")


def test_a_missing_topic_in_a_complete_language_is_reported(repo: Path) -> None:
    path = repo / "knowledge_base" / "ar" / "conversation.yml"
    path.write_text(path.read_text().replace("thanks:", "thanks_removed:", 1))
    found = messages(repo)
    assert "topic 'thanks' has no answer in Arabic" in found
    assert "'thanks_removed' is not a topic of topics.yml" in found


def test_a_broken_related_link_is_reported_with_file_and_line(repo: Path) -> None:
    path = repo / "knowledge_base" / "en" / "rights.yml"
    text = path.read_text()
    path.write_text(text.replace("related: [", "related: [no_such_topic, ", 1))
    assert "related topic 'no_such_topic'" in messages(repo)
    assert "en/rights.yml:" in messages(repo)


def test_a_bad_date_is_reported(repo: Path) -> None:
    path = repo / "knowledge_base" / "en" / "asylum.yml"
    path.write_text(path.read_text().replace("last_reviewed: 2026-11-21", "last_reviewed: last tuesday", 1))
    assert "must be a date like 2026-11-21" in messages(repo)


def test_a_translation_with_wrong_placeholders_is_reported(repo: Path) -> None:
    path = repo / "locales" / "fr" / "LC_MESSAGES" / "messages.po"
    lines = path.read_text().splitlines()
    broken = [line.replace("{language}", "{langue}") if line.startswith("msgstr") else line for line in lines]
    assert broken != lines
    path.write_text("\n".join(broken) + "\n")
    assert "placeholders ['{language}']" in messages(repo)


def test_an_example_taught_for_two_topics_is_reported(repo: Path) -> None:
    path = repo / "nlu" / "en" / "conversation.yml"
    path.write_text(path.read_text() + "- intent: thanks\n  examples: |\n    - I was arrested, what are my rights?\n")
    assert "one sentence cannot teach two topics" in messages(repo)


def test_flows_out_of_date_with_topics_are_reported(repo: Path) -> None:
    with (repo / "knowledge_base" / "topics.yml").open("a") as handle:
        handle.write("rights_new: {area: rights, about: new}\n")
    assert "run `make flows`" in messages(repo)


def test_a_danger_phrase_file_that_misses_its_own_test_is_reported(repo: Path) -> None:
    path = repo / "knowledge_base" / "emergency" / "en.yml"
    data = yaml.safe_load(path.read_text())
    data["tests"]["match"].append("zzz unmatched zzz")
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert "'zzz unmatched zzz' should be recognised as danger" in messages(repo)
