"""`python -m bot add-language CODE`: the files of a new language, as skeletons editors fill.

A new language starts as `answers: partial`. Every file it gets is valid but holds nothing of
that language yet: answers, flow texts and country notes are the English ones, commented out as a
reference; example questions are commented-out hints; the catalog is untranslated. So nothing
untranslated is ever served as if it were translated: users read English (answers with a note
saying so) until an editor writes each piece. Existing files are never overwritten, and nothing is
written unless the code is accepted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po, write_po

from bot.content_check import nlu_examples
from bot.errors import ContentError
from bot.knowledge import AREAS, Content, load_content, read_yaml_with_lines
from bot.language.registry import LanguageRegistry

REFERENCE = "en"  # the language every skeleton quotes, and the one users read until translated
# Below every launch language (0.6-1.0): a new language decides close calls only once it is set higher.
PRIOR = 0.3
HINT_EXAMPLES = 3
_CODE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class Plan:
    """What adding a language writes: new files (relative path -> text), kept files, the registry line."""

    code: str
    name: str
    native: str
    files: dict[Path, str]
    kept: tuple[Path, ...]
    languages_line: str


def plan_language(root: Path, code: str, name: str, native: str) -> Plan:
    """Check the request and prepare every file; raise ValueError (nothing written) when refused."""
    name, native = name.strip(), native.strip()
    if not _CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a language code. Use the ISO 639 code in two or three "
                         "lower-case letters, such as ps, tr or ckb (not PS, ps-AF or Pashto).")
    try:
        locale = Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"{code!r} is not a language code Babel knows (it gives plural rules and writing "
                         "direction). Check the ISO 639 code of the language.") from None
    if locale.language != code:
        raise ValueError(f"{code!r} is an old code of {locale.english_name}; use {locale.language!r}.")
    for option, value in (("--name", name), ("--native", native)):
        if not value or "\n" in value:
            raise ValueError(f"{option} must be one line, for example --name Pashto --native پښتو")
    folder = root / "knowledge_base"
    registry = LanguageRegistry.load(folder / "languages.yml")
    existing = registry.get(code)
    if existing is not None:
        raise ValueError(f"{code} ({existing.name}) is already in knowledge_base/languages.yml; "
                         f"edit its files instead (knowledge_base/{code}/, nlu/{code}/, locales/{code}/).")
    content = load_content(folder)
    title = f"{name} ({native})" if native != name else name
    wanted: dict[Path, str] = {}
    for area in AREAS:
        wanted[Path("knowledge_base", code, f"{area}.yml")] = _answers(content, folder, area, title)
    wanted[Path("knowledge_base", code, "flows.yml")] = _texts(folder / REFERENCE / "flows.yml", FLOWS_HEADER,
                                                                title)
    wanted[Path("knowledge_base", code, "country_notes.yml")] = _texts(
        folder / REFERENCE / "country_notes.yml", NOTES_HEADER, title)
    examples = _examples(root / "nlu" / REFERENCE)
    for area in AREAS:
        topics = [topic.id for topic in content.topics.values() if topic.area == area]
        wanted[Path("nlu", code, f"{area}.yml")] = _nlu(topics, examples, area, title)
    wanted[Path("knowledge_base", "emergency", f"{code}.yml")] = _emergency(folder / "emergency", code, title)
    wanted[Path("locales", code, "LC_MESSAGES", "messages.po")] = _catalog(root / "locales" / "messages.pot", locale)
    files = {path: text for path, text in wanted.items() if not (root / path).exists()}
    kept = tuple(path for path in wanted if (root / path).exists())
    line = f"{code}: {{name: {_scalar(name)}, native: {_scalar(native)}, answers: partial, prior: {PRIOR}}}"
    return Plan(code, name, native, files, kept, line)


def apply(root: Path, plan: Plan) -> None:
    """Write the new files, then add the language to languages.yml (last, so it never names missing files)."""
    for relative, text in plan.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    registry = root / "knowledge_base" / "languages.yml"
    current = registry.read_text(encoding="utf-8")
    separator = "" if current.endswith("\n") or not current else "\n"
    registry.write_text(f"{current}{separator}{plan.languages_line}\n", encoding="utf-8")


def run(root: Path, code: str, name: str, native: str, *, dry_run: bool = False) -> int:
    """The command: refuse with a reason, or write (or list) the files and print the next steps."""
    try:
        plan = plan_language(root, code, name, native)
    except ValueError as exc:
        print(f"Not added: {exc}")
        return 2
    except (ContentError, OSError) as exc:
        print(f"Not added: fix this first, then run the command again: {exc}")
        return 2
    if dry_run:
        print(f"Would add {plan.name} ({plan.code}). Nothing is written (--dry-run).")
        print(f"  knowledge_base/languages.yml  + {plan.languages_line}")
        print("\n".join(f"  create {path}" for path in plan.files))
        print("\n".join(f"  keep   {path} (already there)" for path in plan.kept))
        return 0
    apply(root, plan)
    print(checklist(plan))
    return 0


def checklist(plan: Plan) -> str:
    """What was created and what the editor does next, in order."""
    code = plan.code
    lines = [f"Added {plan.name} ({code}) as `answers: partial`: until a piece is translated, people who "
             "write this language read it in English.", "", "Created:",
             f"  knowledge_base/languages.yml  (added: {plan.languages_line})"]
    lines += [f"  {path}" for path in plan.files]
    lines += ["Kept as they were:", *(f"  {path}" for path in plan.kept)] if plan.kept else []
    lines += [
        "", "Next, in this order (the guide: docs/adding-a-language.md):",
        f"  1. Translate the interface: locales/{code}/LC_MESSAGES/messages.po (Poedit or any PO editor).",
        f"  2. Write the answers: knowledge_base/{code}/rights.yml, asylum.yml, services.yml, conversation.yml,",
        "     then flows.yml and country_notes.yml. Each file explains how at its top.",
        f"  3. Write example questions: nlu/{code}/, at least 15 real questions per topic.",
        f"  4. With a native speaker who works with people in danger: knowledge_base/emergency/{code}.yml.",
        f"  5. When every topic is translated: `answers: complete` for {code} in knowledge_base/languages.yml.",
        "  6. make check-content  (after each step too; fix every ERROR it names)",
        f"  7. make train, then make run and /language to try {plan.name}.",
    ]
    return "\n".join(lines)


# --- The skeletons --------------------------------------------------------------------------

ANSWERS_HEADER = """\
# Knowledge base, {title}: {area}.
# A skeleton to fill: nothing in it is shown to users yet.
#
# Every topic of this area is below, commented out (each line starts with "# "), with the English
# text as a reference. While a topic stays commented out, people who write this language get the
# English answer with a note saying so.
#
# To translate a topic:
# 1. Remove the "# " at the start of each of its lines (most editors: select the lines, Ctrl+/).
#    The first line (the topic id, such as rights_overview:) must then start at the left edge.
# 2. Replace the English title and answer with yours. Keep the topic id and `related:` as they are;
#    keep the sources, or use sources in this language when they exist.
# 3. Set last_reviewed to the day you wrote it. Keep `review: draft` until a lawyer and a
#    native-speaking editor have checked it.
# Titles have at most 40 characters (they are buttons). Rules: knowledge_base/README.md.
# Then run `make check-content`.
"""

FLOWS_HEADER = """\
# Guided flows, {title}: the texts of the flows in flows/guided/.
# A skeleton to fill.
#
# Below, commented out, are the English texts as a reference. A text still commented out is shown
# in English. To translate a flow, remove the "# " at the start of its lines and replace the
# English texts with yours; keep every key (the words before ":") exactly as it is.
# Button labels (`title` and the options of a question) have at most 40 characters.
"""

NOTES_HEADER = """\
# Country notes, {title}.
# What differs in a country, shown under law-dependent answers. A skeleton to fill.
#
# Below, commented out, are the English notes of each country (their sources are listed in
# knowledge_base/en/country_notes.yml). A note still commented out is shown in English.
# Translate at least the country of your deployment (COUNTRY): remove the "# " at the start of the
# country's lines and replace the English notes with yours; keep the country code and topic ids.
# At most 700 characters per note.
"""

NLU_HEADER = """\
# Example questions, {title}: {area}.
# The engine learns from them what people mean.
#
# Under each topic below, write at least 15 real questions in this language, the ways people
# really write them: short and long, with typos, without punctuation, mixed with other languages.
# The three English lines are only a hint of the meaning: do not translate them word for word.
#
# To start a topic: remove the "# " at the start of its lines and put your questions in place of
# the English ones, one per line, each starting with "    - " (four spaces, a dash, a space).
# Before the first topic you start, change the line `nlu: []` into `nlu:`.
# One sentence can teach only one topic. Then run `make check-content` and `make train`.
"""

EMERGENCY_HEADER = """\
# Emergency phrases, {title}.
# A message containing one of these phrases gets the emergency answer at once, before and without
# the engine. Write them WITH a native speaker who works with people in danger, and see
# knowledge_base/emergency/en.yml for how phrases are chosen.
#
# - Each category is a list: violence: ["phrase one", "phrase two"]. Phrases match whole words,
#   after folding case, accents and Arabic-script letter variants; a phrase ending with "*" matches
#   any word ending.
# - Choose phrases that only someone in danger now would write, not someone asking a question.
# - Under tests, add messages that must match (match:) and must not (no_match:); the check runs them.
"""


def _answers(content: Content, folder: Path, area: str, title: str) -> str:
    blocks: dict[Path, dict[str, list[str]]] = {}
    parts = [ANSWERS_HEADER.format(title=title, area=area)]
    for topic in (t for t in content.topics.values() if t.area == area):
        entry = content.entries.get((topic.id, REFERENCE))
        if entry is None:
            lines = [f"{topic.id}:", "  title: ", "  answer: |", f"    ({topic.about})",
                     "  last_reviewed: ", "  review: draft"]
        else:
            path = Path(entry.file)
            lines = blocks.setdefault(path, _blocks(path)).get(topic.id) or [f"{topic.id}:"]
        parts.append(_commented(lines))
    return "\n".join(parts)


def _texts(reference: Path, header: str, title: str) -> str:
    parts = [header.format(title=title) + "review: draft   # until a lawyer and a native-speaking editor check it\n"]
    parts += [_commented(lines) for key, lines in _blocks(reference).items() if key != "review"]
    return "\n".join(parts)


def _nlu(topics: list[str], examples: dict[str, list[str]], area: str, title: str) -> str:
    parts = [NLU_HEADER.format(title=title, area=area) + 'version: "3.1"\nnlu: []\n']
    for topic in topics:
        hints = [f"    - {text}" for text in examples.get(topic, [])[:HINT_EXAMPLES]]
        parts.append(_commented([f"- intent: {topic}", "  examples: |", *hints]))
    return "\n".join(parts)


def _emergency(folder: Path, code: str, title: str) -> str:
    reference = yaml.safe_load((folder / f"{REFERENCE}.yml").read_text(encoding="utf-8")) or {}
    categories = "".join(f"  {category}: []\n" for category in reference.get("categories") or {})
    return (EMERGENCY_HEADER.format(title=title) + f"language: {code}\n"
            'review: "draft: skeleton, awaiting danger phrases written and reviewed by native speakers"\n'
            "# Words that ask for the emergency answer when they are the whole message (\"emergency\", \"SOS\").\n"
            f"alone: []\ncategories:\n{categories}tests: {{match: [], no_match: []}}\n")


def _catalog(template: Path, locale: Locale) -> str:
    """What `pybabel init` writes: the template's messages, untranslated, with this locale's plural rules."""
    # Babel prints a warning for each of the template's two empty plural slots when the language
    # has one plural form (Turkish); they are dropped, as `pybabel init` drops them.
    with template.open("rb") as handle, contextlib.redirect_stdout(io.StringIO()):
        catalog = read_po(handle, locale=locale)
    catalog.locale = locale
    catalog.revision_date = dt.datetime.now(dt.UTC)
    catalog.fuzzy = False
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=76)
    return buffer.getvalue().decode("utf-8")


# --- Reading the English reference ----------------------------------------------------------


def _blocks(path: Path) -> dict[str, list[str]]:
    """Each top-level key of a YAML file with the lines that write it, as written (no comment lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = sorted((line - 1, key) for key, (_, line) in read_yaml_with_lines(path).items())
    ends = [start for start, _ in starts[1:]] + [len(lines)]
    blocks = {}
    for (start, key), end in zip(starts, ends, strict=True):
        # A line starting with "#" at the left edge is a comment between entries, never answer text.
        body = [line for line in lines[start:end] if not line.startswith("#")]
        while body and not body[-1].strip():
            body.pop()
        blocks[key] = body
    return blocks


def _examples(folder: Path) -> dict[str, list[str]]:
    """The reference language's example questions by intent, in file order."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.yml")):
        for intent, text, _ in nlu_examples(path):
            found.setdefault(intent, []).append(text)
    return found


def _commented(lines: Iterable[str]) -> str:
    return "".join(f"# {line}\n" if line.strip() else "#\n" for line in lines)


def _scalar(value: str) -> str:
    """`value` as a YAML flow scalar: bare when YAML reads it back unchanged, else double-quoted."""
    try:
        if yaml.safe_load(f"{{v: {value}}}") == {"v": value}:
            return value
    except yaml.YAMLError:
        pass
    return json.dumps(value, ensure_ascii=False)
