"""`python -m bot add-language`: a new language gets valid skeleton files, and until they are
filled its users read English with a note; a code that is configured or not a language is refused."""

from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from bot.__main__ import main
from bot.content_check import check_all
from bot.directory import load_directory
from bot.editors.new_language import run
from bot.emergency import EmergencyRules, parse_phrase_file
from bot.guided.definitions import load_flows
from bot.guided.guide import Guide
from bot.guided.rendering import GuideRenderer
from bot.i18n import Catalogs
from bot.knowledge import AREAS, KnowledgeBase, load_content
from bot.language.detection import LanguageDetector
from bot.language.registry import LanguageRegistry
from bot.language.resolver import LanguageResolver
from bot.rendering import Renderer
from bot.replies import Said, TopicAnswer

PASHTO = ("ps", "Pashto", "پښتو")
SKELETONS = [
    *(f"knowledge_base/ps/{name}.yml" for name in (*AREAS, "flows", "country_notes")),
    *(f"nlu/ps/{area}.yml" for area in AREAS),
    "locales/ps/LC_MESSAGES/messages.po",
]




def snapshot(root: Path) -> dict[Path, bytes]:
    return {path.relative_to(root): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def errors(root: Path) -> list[str]:
    return [f"{p.where}: {p.message}" for p in check_all(root) if p.severity == "error"]


def test_adding_a_language_creates_every_file_and_the_content_still_checks(repo: Path) -> None:
    languages = (repo / "knowledge_base" / "languages.yml").read_text()
    danger = (repo / "knowledge_base" / "emergency" / "ps.yml").read_bytes()

    assert run(repo, *PASHTO) == 0

    for relative in SKELETONS:
        assert (repo / relative).is_file(), relative
    after = (repo / "knowledge_base" / "languages.yml").read_text()
    assert after == languages + "ps: {name: Pashto, native: پښتو, answers: partial, prior: 0.3}\n"
    registry = LanguageRegistry.load(repo / "knowledge_base" / "languages.yml")
    pashto = registry.get("ps")
    assert pashto is not None and not pashto.answers_complete and pashto.rtl
    # The danger phrases drafted for Pashto were already there: kept as they were.
    assert (repo / "knowledge_base" / "emergency" / "ps.yml").read_bytes() == danger
    content = load_content(repo / "knowledge_base")
    assert not [key for key in content.entries if key[1] == "ps"]
    assert not [key for key in content.texts if key[0] == "ps"]
    problems = check_all(repo)
    assert [f"{p.where}: {p.message}" for p in problems if p.severity == "error"] == []
    catalog = [p.message for p in problems if p.severity == "warning" and "locales/ps/" in p.where]
    assert len(catalog) == 1 and "interface strings are not translated" in catalog[0]


def test_every_topic_is_in_its_skeleton_as_commented_english_and_example_hints(repo: Path) -> None:
    run(repo, *PASHTO)
    topics = load_content(repo / "knowledge_base").topics
    for area in AREAS:
        answers = (repo / "knowledge_base" / "ps" / f"{area}.yml").read_text()
        examples = (repo / "nlu" / "ps" / f"{area}.yml").read_text()
        assert yaml.safe_load(examples) == {"version": "3.1", "nlu": []}
        assert "at least 15 real questions" in examples
        for topic in (t for t in topics.values() if t.area == area):
            assert f"\n# {topic.id}:\n#   title: " in answers
            assert f"\n# - intent: {topic.id}\n#   examples: |\n#     - " in examples
    assert "\n# rights_overview:\n#   title: Your basic rights\n" in (repo / "knowledge_base/ps/rights.yml").read_text()
    flows = (repo / "knowledge_base" / "ps" / "flows.yml").read_text()
    assert yaml.safe_load(flows) == {"review": "draft"} and "\n# detention:\n" in flows
    notes = (repo / "knowledge_base" / "ps" / "country_notes.yml").read_text()
    assert yaml.safe_load(notes) == {"review": "draft"} and "\n# TR:\n#   asylum_registration: |\n" in notes


def test_a_topic_uncommented_and_translated_replaces_the_english_answer(repo: Path) -> None:
    run(repo, *PASHTO)
    path = repo / "knowledge_base" / "ps" / "conversation.yml"
    lines = path.read_text().splitlines()
    start = lines.index("# thanks:")
    end = lines.index("", start)
    block = [line[2:] for line in lines[start:end]]
    block[1] = "  title: مننه"
    path.write_text("\n".join([*lines[:start], *block, *lines[end:]]) + "\n")

    knowledge = KnowledgeBase(load_content(repo / "knowledge_base"))
    entry, fallback = knowledge.entry("thanks", "ps")  # type: ignore[misc]
    assert not fallback and entry.title == "مننه" and entry.language == "ps"
    assert errors(repo) == []


def test_the_new_language_reads_english_with_a_note_until_translated(repo: Path) -> None:
    run(repo, *PASHTO)
    content = load_content(repo / "knowledge_base")
    knowledge = KnowledgeBase(content)
    entry, fallback = knowledge.entry("rights_detention", "ps")  # type: ignore[misc]
    assert fallback and entry.language == "en"
    assert knowledge.flow_text("detention.who.text", "ps") == knowledge.flow_text("detention.who.text", "en")
    assert knowledge.country_note("TR", "rights_detention", "ps") == (
        content.texts[("en", "note:TR:rights_detention")].text, True)

    languages = LanguageRegistry.load(repo / "knowledge_base" / "languages.yml")
    catalogs = Catalogs.load(repo / "locales", languages.codes)
    flows = load_flows(repo / "flows" / "guided", frozenset(content.topics))
    guide = Guide(flows, load_directory(repo / "knowledge_base" / "services"), "TR", samples=False)
    renderer = Renderer(knowledge, catalogs, languages, "TR", 30, GuideRenderer(knowledge, guide))
    shown = renderer.render(Said(TopicAnswer("rights_detention"), "ps"))
    assert "This answer is not available in پښتو yet, so here it is in English." in shown.text
    assert entry.answer.splitlines()[0] in shown.text
    assert shown.rtl and shown.buttons


def test_a_language_without_danger_phrases_gets_an_empty_valid_file(repo: Path) -> None:
    assert run(repo, "ckb", "Kurdish (Sorani)", "کوردیی ناوەندی") == 0
    path = repo / "knowledge_base" / "emergency" / "ckb.yml"
    data = yaml.safe_load(path.read_text())
    english = yaml.safe_load((repo / "knowledge_base" / "emergency" / "en.yml").read_text())
    assert data["language"] == "ckb" and "native speakers" in data["review"] and data["alone"] == []
    assert data["categories"] == {category: [] for category in english["categories"]}
    assert data["tests"] == {"match": [], "no_match": []}
    assert parse_phrase_file(path) == []
    assert EmergencyRules.load(repo / "knowledge_base" / "emergency").match("they are beating me") is not None
    assert "ckb: {name: Kurdish (Sorani), native: کوردیی ناوەندی, answers: partial, prior: 0.3}" in (
        repo / "knowledge_base" / "languages.yml").read_text()
    with (repo / "locales" / "ckb" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    strings = [m.string if isinstance(m.string, tuple | list) else (m.string,) for m in catalog if m.id]
    assert str(catalog.locale) == "ckb" and strings and not any(any(s) for s in strings)
    assert errors(repo) == []


@pytest.mark.parametrize(("code", "reason"), [
    ("ar", "ar (Arabic) is already in knowledge_base/languages.yml"),
    ("PS", "'PS' is not a language code"),
    ("ps-AF", "'ps-AF' is not a language code"),
    ("pashto", "'pashto' is not a language code"),
    ("qq", "'qq' is not a language code Babel knows"),
    ("iw", "'iw' is an old code of Hebrew"),
])
def test_a_configured_or_invalid_code_is_refused_and_nothing_is_written(
    repo: Path, code: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(repo)
    assert run(repo, code, "Name", "Native") == 2
    assert f"Not added: {reason}" in capsys.readouterr().out
    assert snapshot(repo) == before


def test_an_empty_name_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(repo)
    assert run(repo, "ps", " ", "پښتو") == 2
    assert "--name must be one line" in capsys.readouterr().out
    assert snapshot(repo) == before


def test_a_dry_run_lists_what_it_would_create_and_writes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(repo)
    assert run(repo, *PASHTO, dry_run=True) == 0
    out = capsys.readouterr().out
    assert snapshot(repo) == before
    for relative in SKELETONS:
        assert f"create {relative}" in out
    assert "keep   knowledge_base/emergency/ps.yml (already there)" in out
    assert "ps: {name: Pashto, native: پښتو, answers: partial, prior: 0.3}" in out


def test_the_command_line_prints_the_next_steps_in_order(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_ROOT", str(repo))
    monkeypatch.setenv("STATE_DIR", str(repo / ".run"))
    assert main(["add-language", "ps", "--name", "Pashto", "--native", "پښتو"]) == 0
    out = capsys.readouterr().out
    steps = ["locales/ps/LC_MESSAGES/messages.po", "knowledge_base/ps/rights.yml", "nlu/ps/",
             "knowledge_base/emergency/ps.yml", "`answers: complete`", "make check-content", "make train"]
    positions = [out.index(step, out.index("Next, in this order")) for step in steps]
    assert positions == sorted(positions)
    assert main(["add-language", "ps", "--name", "Pashto", "--native", "پښتو"]) == 2
    assert "already in knowledge_base/languages.yml" in capsys.readouterr().out


def test_a_new_language_is_resolved_by_its_letters_and_an_undetectable_one_does_not_crash(repo: Path) -> None:
    run(repo, *PASHTO)
    run(repo, "ckb", "Kurdish (Sorani)", "کوردیی ناوەندی")
    registry = LanguageRegistry.load(repo / "knowledge_base" / "languages.yml")
    detector = LanguageDetector({lang.code: lang.prior for lang in registry.languages})
    resolver = LanguageResolver(registry, detector, "en")
    assert resolver.resolve("زه د پناه غوښتنه کول غواړم").language == "ps"
    # Sorani has no script rule and no langdetect profile: never detected, chosen with /language.
    assert resolver.resolve("من دەمەوێت داوای پەنابەری بکەم").language in registry.codes
    assert resolver.resolve("من دەمەوێت داوای پەنابەری بکەم", chosen="ckb").language == "ckb"
