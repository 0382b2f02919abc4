"""The editors' tools: review and approval, reviewed-only serving, coverage, preview and reloading."""

import datetime as dt
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.console import ConsoleChat
from bot.content_check import check_all
from bot.editors.approve import approve, pending_reviews
from bot.editors.coverage import coverage, markdown, terminal_table
from bot.editors.preview import build_renderer, previews
from bot.knowledge import KnowledgeBase, load_content
from bot.rendering import LRI
from bot.replies import Said, TopicAnswer
from bot.services import open_services
from bot.settings import ROOT, Settings

TODAY = dt.date(2026, 11, 21)




def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def entry(repo: Path, topic: str, language: str = "en"):  # type: ignore[no-untyped-def]
    return load_content(repo / "knowledge_base").entries[(topic, language)]


# --- review before publishing ---------------------------------------------------------------


def test_an_approval_is_recorded_in_the_file_with_who_and_when(repo: Path) -> None:
    assert entry(repo, "rights_detention", "fr").review.status == "draft"
    outcome = approve(repo, "Amina Haddad", topic="rights_detention", language="fr", today=TODAY)
    assert outcome == ["rights_detention (fr): approved by Amina Haddad"]
    review = entry(repo, "rights_detention", "fr").review
    assert (review.status, review.by, review.on) == ("reviewed", "Amina Haddad", TODAY)
    text = (repo / "knowledge_base" / "fr" / "rights.yml").read_text()
    assert 'review: {status: reviewed, by: "Amina Haddad", date: 2026-11-21' in text
    assert text.count("status: reviewed") == 1
    assert entry(repo, "rights_police", "fr").review.status == "draft"  # only that entry


def test_an_edit_to_a_reviewed_answer_returns_it_to_draft_until_a_second_person_approves(repo: Path) -> None:
    path = repo / "knowledge_base" / "en" / "rights.yml"
    approve(repo, "Amina", topic="rights_detention", today=TODAY)
    edit(path, "Ask for an interpreter.", "Ask for an interpreter at once.")
    review = entry(repo, "rights_detention").review
    assert review.status == "changed" and not review.reviewed
    problems = [p for p in check_all(repo, TODAY) if "rights_detention" in p.message and p.severity == "warning"]
    assert any("changed since Amina reviewed it on 2026-11-21" in p.message and "rights.yml:" in p.where
               for p in problems)
    # Nobody said who changed it: no one can approve it yet.
    assert "NOT approved" in approve(repo, "Karim", topic="rights_detention", today=TODAY)[0]
    edit(path, 'review: {status: reviewed, by: "Amina"', 'review: {status: reviewed, edited_by: "Karim", by: "Amina"')
    refused = approve(repo, "karim", topic="rights_detention", today=TODAY)[0]
    assert "Karim made the last change, so a second person must approve it" in refused
    assert approve(repo, "Amina", topic="rights_detention", today=TODAY) == [
        "rights_detention (en): approved by Amina"]
    assert entry(repo, "rights_detention").review.reviewed


def test_reviewed_written_by_hand_does_not_count(repo: Path) -> None:
    path = repo / "knowledge_base" / "en" / "rights.yml"
    text = path.read_text()
    start = text.index("rights_detention:")
    path.write_text(text[:start] + text[start:].replace("review: draft", "review: reviewed", 1))
    assert not entry(repo, "rights_detention").review.reviewed
    assert any("marked reviewed by hand" in p.message for p in check_all(repo, TODAY))


def test_a_whole_flows_file_is_approved_and_reported_when_it_changes(repo: Path) -> None:
    assert approve(repo, "Amina", file="knowledge_base/ar/flows.yml", today=TODAY) == [
        "knowledge_base/ar/flows.yml: approved by Amina"]
    path = str(repo / "knowledge_base" / "ar" / "flows.yml")
    assert load_content(repo / "knowledge_base").file_reviews[path].reviewed
    waiting = [where for where, _, _ in pending_reviews(load_content(repo / "knowledge_base"))]
    assert f"{path}:1" not in waiting
    edit(repo / "knowledge_base" / "ar" / "flows.yml", "التسجيل مجاني.", "التسجيل مجاني دائما.")
    assert load_content(repo / "knowledge_base").file_reviews[path].status == "changed"


def test_the_check_says_how_much_awaits_review_per_language(repo: Path) -> None:
    approve(repo, "Amina", file="knowledge_base/fr/rights.yml", today=TODAY)
    notes = {p.where: p.message for p in check_all(repo, TODAY) if p.severity == "note"}
    rights = sum(1 for t in load_content(repo / "knowledge_base").topics.values() if t.area == "rights")
    assert notes["knowledge_base/fr/"].startswith(f"{42 - rights} of 42 answers and 2 text files await review")
    assert notes["knowledge_base/en/"].startswith("42 of 42 answers")


async def test_a_deployment_serving_only_reviewed_answers_withholds_drafts(
        repo: Path, make_settings: Callable[..., Settings]) -> None:
    approve(repo, "Amina", topic="rights_police", language="en", today=TODAY)
    settings = make_settings(ASSISTANT_ROOT=str(repo), SERVE_ONLY_REVIEWED="true")
    async with open_services(settings, start_engine=False) as services:
        render = services.renderer.render
        withheld = render(Said(TopicAnswer("rights_detention"), "fr"))
        assert "encore en train de vérifier" in withheld.text or "vérifi" in withheld.text
        assert [b.action.kind for row in withheld.buttons for b in row] == ["human", "menu"]
        # The reviewed English answer stands in for the French draft, with the usual note.
        police = render(Said(TopicAnswer("rights_police"), "fr"))
        assert entry(repo, "rights_police").answer.splitlines()[0] in police.text
        assert "en anglais" in police.text
        # Conversation replies are always served.
        assert entry(repo, "greet", "fr").answer.splitlines()[0] in render(Said(TopicAnswer("greet"), "fr")).text


def test_by_default_drafts_are_served() -> None:
    knowledge = KnowledgeBase(load_content(ROOT / "knowledge_base"))
    assert knowledge.entry("rights_detention", "fr") is not None and not knowledge.withheld("rights_detention")


# --- checks fed broken files ----------------------------------------------------------------


def errors_and_warnings(repo: Path, today: dt.date = TODAY) -> str:
    return "\n".join(f"{p.severity} {p.where}: {p.message}" for p in check_all(repo, today)
                     if p.severity != "note")


def test_an_answer_older_than_the_configured_age_is_reported(repo: Path) -> None:
    (repo / "knowledge_base" / "review.yml").write_text("max_age_days: 30\n")
    found = errors_and_warnings(repo, TODAY + dt.timedelta(days=45))
    assert "'rights_detention' was last reviewed on 2026-11-21 (45 days ago; review.yml allows 30)" in found
    assert "en/rights.yml:" in found
    assert "last reviewed" not in errors_and_warnings(repo, TODAY + dt.timedelta(days=29))


def test_a_translation_older_than_its_english_answer_is_reported(repo: Path) -> None:
    edit(repo / "knowledge_base" / "en" / "asylum.yml", "last_reviewed: 2026-11-21", "last_reviewed: 2026-12-01")
    found = errors_and_warnings(repo, dt.date(2026, 12, 2))
    assert "was updated on 2026-12-01, after this translation (2026-11-21): bring the translation up to date" in found
    assert "so/asylum.yml:" in found


def test_a_source_without_url_and_an_answer_too_long_are_reported(repo: Path) -> None:
    path = repo / "knowledge_base" / "en" / "services.yml"
    edit(path, "      url: https://help.unhcr.org/\n", "")
    edit(path, "  answer: |\n", "  answer: |\n    " + "Long text. " * 400 + "\n")
    found = errors_and_warnings(repo)
    assert "has no URL" in found
    assert "must fit one Telegram message" in found and "en/services.yml:" in found


def test_a_service_with_an_invalid_phone_or_coordinates_is_reported_with_its_line(repo: Path) -> None:
    path = repo / "knowledge_base" / "services" / "sample.yml"
    text = path.read_text()
    first = text.index("  - id:")
    line = text[:first].count("\n") + 1
    block_end = text.index("  - id:", first + 1)
    block = text[first:block_end]
    broken = block.replace("    categories:", '    phone: "call me"\n    categories:', 1)
    path.write_text(text[:first] + broken + text[block_end:])
    found = errors_and_warnings(repo)
    assert f"sample.yml:{line}: service" in found and "must be international, like +90 212 000 00 00" in found

    coordinates = next(li for li in block.splitlines() if "coordinates:" in li)
    latitude, longitude = coordinates.split("[")[1].rstrip("] ").split(",")
    swapped = block.replace(coordinates, coordinates.split("[")[0] + f"[{longitude.strip()}, {latitude.strip()}]")
    path.write_text(text[:first] + swapped + text[block_end:])
    found = errors_and_warnings(repo)
    assert f"sample.yml:{line}:" in found and "check its coordinates (latitude first, then longitude)" in found

    path.write_text(text[:first] + block.replace(coordinates, coordinates.split("[")[0] + "[123, 500]")
                    + text[block_end:])
    assert "coordinates must be [latitude, longitude] in degrees" in errors_and_warnings(repo)


def test_a_language_with_too_few_examples_is_reported(repo: Path) -> None:
    shutil.rmtree(repo / "nlu" / "so")
    (repo / "nlu" / "so").mkdir()
    (repo / "nlu" / "so" / "asylum.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: asylum_overview\n  examples: |\n    - sidee magangelyo loo codsadaa\n')
    found = errors_and_warnings(repo)
    assert "42 of 42 topics have fewer than 15 example questions in so (1 examples in all)" in found


def test_a_held_out_question_also_in_training_is_reported_without_showing_it(repo: Path) -> None:
    heldout = repo / "tests" / "nlu_heldout" / "en.yml"
    question = next(line.strip()[2:] for line in heldout.read_text().splitlines() if line.strip().startswith("- ")
                    and "intent" not in line)
    intent = next(line.split(":", 1)[1].strip() for line in heldout.read_text().splitlines() if "intent:" in line)
    with (repo / "nlu" / "en" / "conversation.yml").open("a") as handle:
        handle.write(f"- intent: {intent}\n  examples: |\n    - {question}\n")
    found = [p for p in check_all(repo, TODAY) if "test question is also in the training" in p.message]
    assert found and found[0].where.endswith("nlu_heldout/en.yml:" + found[0].where.rsplit(":", 1)[1])
    assert question not in found[0].message


def test_untranslated_strings_block_a_complete_language_and_warn_for_a_partial_one(repo: Path) -> None:
    path = repo / "locales" / "fr" / "LC_MESSAGES" / "messages.po"
    text = path.read_text()
    marker = 'msgstr "'
    start = text.index("\n\nmsgid", text.index(marker)) + 2
    block_end = text.index("\n\n", start)
    block = text[start:block_end]
    cleared = "\n".join(line if not line.startswith("msgstr") else 'msgstr ""'
                        for line in block.splitlines() if not line.startswith('"'))
    path.write_text(text[:start] + cleared + text[block_end:])
    assert "error" in [p.severity for p in check_all(repo, TODAY) if "not translated" in p.message]
    languages = repo / "knowledge_base" / "languages.yml"
    edit(languages, "fr: {name: French, native: Français, answers: complete",
         "fr: {name: French, native: Français, answers: partial")
    found = [p for p in check_all(repo, TODAY) if "not translated" in p.message]
    assert [p.severity for p in found] == ["warning"]
    assert found[0].message == "1 interface strings are not translated (the first is here); users see them in English"


# --- coverage, preview, reload --------------------------------------------------------------


def test_coverage_shows_present_missing_outdated_and_changed(repo: Path) -> None:
    approve(repo, "Amina", topic="rights_police", language="ar", today=TODAY)
    approve(repo, "Amina", topic="rights_work", language="ar", today=TODAY)
    edit(repo / "knowledge_base" / "ar" / "rights.yml", "rights_work:", "rights_work_removed:")
    edit(repo / "knowledge_base" / "topics.yml", "rights_work:", "rights_work_removed:\n  area: rights\n"
         "  about: x\nrights_work:")
    edit(repo / "knowledge_base" / "en" / "asylum.yml", "last_reviewed: 2026-11-21", "last_reviewed: 2026-11-25")
    found = coverage(repo, dt.date(2026, 11, 26))
    first_asylum = next(topic for area, topic in found.topics if area == "asylum")
    assert found.cells[("rights_police", "ar")] == "reviewed"
    assert found.cells[("rights_work", "ar")] == "missing"
    assert found.cells[(first_asylum, "fr")] == "outdated"
    assert found.cells[("rights_detention", "so")] == "draft"
    assert found.totals["ar"]["answers"] == "42/43"
    table = terminal_table(found)
    assert "rights_work" in table and "✗" in table and "⌛" in table and "✓" in table
    page = markdown(found, dt.date(2026, 11, 26))
    assert page.startswith("# Content coverage") and "| `rights_police` | · | ✓ |" in page


def test_a_preview_draws_the_answer_and_its_buttons_as_telegram_does(make_settings: Callable[..., Settings]) -> None:
    renderer = build_renderer(make_settings())
    [drawing] = previews(renderer, "rights_detention", ["ar"])
    expected = renderer.render(Said(TopicAnswer("rights_detention"), "ar"))
    assert LRI in drawing  # URLs and numbers isolated in right-to-left text, as sent
    for row in expected.buttons:
        assert " ".join(f"[{b.label}" for b in row).split("[")[1].strip() in drawing
    assert f"{len(expected.text)} of 4096 characters: fits one message" in drawing
    steps = list(previews(renderer, "asylum_steps", ["fr"]))
    assert len(steps) == len(renderer.guide.guide.flows.steps["asylum_steps"].steps)  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        list(previews(renderer, "no_such_thing", ["en"]))


async def test_the_console_reloads_a_changed_answer_and_refuses_a_broken_file(
        repo: Path, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(ASSISTANT_ROOT=str(repo))
    out = io.StringIO()
    path = repo / "knowledge_base" / "en" / "rights.yml"
    async with open_services(settings, start_engine=False) as services:
        chat = ConsoleChat(services, out)
        edit(path, "Ask for an interpreter.", "Ask for an interpreter, always.")
        await chat.handle("/help")
        assert "↻ Content reloaded: 1 answer changed." in out.getvalue()
        answer = services.renderer.render(Said(TopicAnswer("rights_detention"), "en")).text
        assert "Ask for an interpreter, always." in answer

        edit(path, "rights_detention:\n  title: Detention and arrest", "rights_detention:\n  title: [broken")
        await chat.handle("/help")
        assert "⚠ Not reloaded: the files have errors; still using the previous content." in out.getvalue()
        assert "rights.yml:" in out.getvalue().rsplit("⚠", 1)[1]
        answer = services.renderer.render(Said(TopicAnswer("rights_detention"), "en")).text
        assert "Ask for an interpreter, always." in answer

        await chat.handle("/preview rights_police fr")
        assert "── rights_police · fr ──" in out.getvalue()
