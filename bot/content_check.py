"""`make check-content`: validate the knowledge base, NLU data, flows, catalogs and danger phrases.

Every problem names its file (and line where there is one) and says in plain words what to fix.
Errors fail the check; warnings are shown but do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from babel.messages.pofile import read_po

from bot.directory import load_directory
from bot.emergency import EmergencyRules, parse_phrase_file
from bot.errors import ContentError
from bot.flows import render_flows
from bot.guided.definitions import load_flows
from bot.knowledge import Content, load_content
from bot.language.registry import LanguageRegistry

MIN_EXAMPLES = 15
MAX_TITLE = 40
MAX_ANSWER = 3500  # leaves room for the title, sources and date within Telegram's 4096
MAX_NOTE = 700  # a country note, shown under an answer
MAX_FLOW_TEXT = 1500  # a step or walkthrough message: short by design
_PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


@dataclass(frozen=True)
class Problem:
    severity: Literal["error", "warning"]
    where: str
    message: str


def check_all(root: Path) -> list[Problem]:
    """Run every check; returns the problems found."""
    problems: list[Problem] = []
    folder = root / "knowledge_base"
    try:
        languages = LanguageRegistry.load(folder / "languages.yml")
        content = load_content(folder)
    except ContentError as exc:
        return [Problem("error", str(exc).split(": ")[0], str(exc))]
    problems += check_knowledge(content, languages)
    problems += check_flows(root, content)
    problems += check_guided(root, content, languages)
    problems += check_nlu(root, content)
    problems += check_catalogs(root / "locales", languages)
    problems += check_emergency(folder / "emergency", languages)
    return problems


def check_knowledge(content: Content, languages: LanguageRegistry) -> list[Problem]:
    problems = []
    for (topic, language), entry in sorted(content.entries.items()):
        where = f"{entry.file}:{entry.line}"
        if topic not in content.topics:
            problems.append(Problem("error", where, f"{topic!r} is not a topic of topics.yml"))
        if language not in languages.codes:
            problems.append(Problem("error", where, f"language {language!r} is not in languages.yml"))
        for related in entry.related:
            if related not in content.topics:
                problems.append(Problem("error", where, f"related topic {related!r} of {topic!r} does not exist"))
            elif related == topic:
                problems.append(Problem("warning", where, f"{topic!r} lists itself as related"))
        if len(entry.title) > MAX_TITLE:
            problems.append(Problem("error", where, f"the title of {topic!r} has {len(entry.title)} characters; "
                                    f"buttons show at most {MAX_TITLE}"))
        if len(entry.answer) > MAX_ANSWER:
            problems.append(Problem("error", where, f"the answer of {topic!r} has {len(entry.answer)} characters; "
                                    f"with its sources it must fit one Telegram message (keep it under {MAX_ANSWER})"))
        for source in entry.sources:
            if not source.url:
                problems.append(Problem("warning", where, f"source {source.name!r} of {topic!r} has no URL"))
            elif not source.url.startswith(("https://", "http://")):
                problems.append(Problem("error", where, f"source URL {source.url!r} of {topic!r} must start with https://"))
        if content.topics.get(topic) and content.topics[topic].dated and not entry.sources:
            problems.append(Problem("warning", where, f"{topic!r} has no source"))
    for complete in (lang for lang in languages.languages if lang.answers_complete):
        for topic in content.topics:
            if (topic, complete.code) not in content.entries:
                problems.append(Problem("error", f"knowledge_base/{complete.code}/",
                                        f"topic {topic!r} has no answer in {complete.name}, which languages.yml "
                                        "marks as complete"))
    return problems


def check_flows(root: Path, content: Content) -> list[Problem]:
    problems = []
    for relative, expected in render_flows(content.topics).items():
        path = root / relative
        if not path.exists() or path.read_text(encoding="utf-8") != expected:
            problems.append(Problem("error", relative, "out of date with knowledge_base/topics.yml; run `make flows`"))
    return problems


def check_guided(root: Path, content: Content, languages: LanguageRegistry) -> list[Problem]:
    """Guided flows, their texts in every language, country notes and the service directory."""
    problems = []
    try:
        flows = load_flows(root / "flows" / "guided", frozenset(content.topics))
        load_directory(root / "knowledge_base" / "services")
    except ContentError as exc:
        return [Problem("error", str(exc).split(": ")[0], str(exc))]
    for language in languages.languages:
        where = f"knowledge_base/{language.code}/flows.yml"
        missing = [key for key in flows.text_keys() if (language.code, f"flow:{key}") not in content.texts]
        if missing and (language.answers_complete or language.code == "en"):
            problems.append(Problem("error", where, f"{len(missing)} flow texts missing in {language.name}, "
                                    f"e.g. {', '.join(missing[:3])}"))
        for key in flows.text_keys():
            text = content.texts.get((language.code, f"flow:{key}"))
            if text is None:
                continue
            label = not key.endswith(".text")
            limit = MAX_TITLE if label else MAX_FLOW_TEXT
            if len(text.text) > limit:
                what = "button label" if label else "text"
                problems.append(Problem("error", f"{text.file}:{text.line}", f"the {what} {key!r} has "
                                        f"{len(text.text)} characters; at most {limit}"))
    for (_, key), text in sorted(content.texts.items()):
        if not key.startswith("note:"):
            continue
        _, country, topic = key.split(":", 2)
        where = f"{text.file}:{text.line}"
        if country not in content.countries:
            problems.append(Problem("error", where, f"note for {country!r}, which has no profile in countries/"))
        if topic not in content.topics or not content.topics[topic].country_specific:
            problems.append(Problem("error", where, f"note for {topic!r}, which topics.yml does not mark "
                                    "country_specific"))
        if len(text.text) > MAX_NOTE:
            problems.append(Problem("error", where, f"the {country} note on {topic!r} has {len(text.text)} "
                                    f"characters; keep it under {MAX_NOTE}"))
    for code in content.countries:
        for specific in (t.id for t in content.topics.values() if t.country_specific):
            if ("en", f"note:{code}:{specific}") not in content.texts:
                problems.append(Problem("warning", "knowledge_base/en/country_notes.yml",
                                        f"no {code} note on {specific!r}; users there see the neutral answer only"))
    return problems


def _nlu_examples(path: Path) -> list[tuple[str, str, int]]:
    """(intent, example, line) for each example of a Rasa NLU file."""
    node = yaml.compose(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str, int]] = []
    if not isinstance(node, yaml.MappingNode):
        return found
    for key, value in node.value:
        if key.value != "nlu" or not isinstance(value, yaml.SequenceNode):
            continue
        for item in value.value:
            fields = {k.value: v for k, v in item.value} if isinstance(item, yaml.MappingNode) else {}
            intent, examples = fields.get("intent"), fields.get("examples")
            if intent is None or examples is None:
                continue
            first_line = examples.start_mark.line + 2
            for offset, line in enumerate(str(examples.value).splitlines()):
                text = line.strip()
                if text.startswith("- "):
                    found.append((str(intent.value), text[2:].strip(), first_line + offset))
    return found


def check_nlu(root: Path, content: Content) -> list[Problem]:
    problems = []
    seen: dict[str, tuple[str, str]] = {}
    counts: dict[tuple[str, str], int] = {}
    for path in sorted((root / "nlu").glob("*/*.yml")):
        language = path.parent.name
        try:
            examples = _nlu_examples(path)
        except yaml.YAMLError as exc:
            problems.append(Problem("error", str(path), f"cannot be read as YAML ({exc})"))
            continue
        for intent, text, line in examples:
            where = f"{path}:{line}"
            if intent not in content.topics:
                problems.append(Problem("error", where, f"intent {intent!r} is not a topic of topics.yml"))
            if text.startswith("/"):
                problems.append(Problem("error", where, "an example must not start with '/'"))
            key = text.casefold()
            if key in seen and seen[key][0] != intent:
                problems.append(Problem("error", where, f"example {text!r} is also given for {seen[key][0]!r} "
                                        f"at {seen[key][1]}; one sentence cannot teach two topics"))
            seen.setdefault(key, (intent, where))
            counts[(language, intent)] = counts.get((language, intent), 0) + 1
    nlu_languages = sorted({language for language, _ in counts})
    for language in nlu_languages:
        for topic in content.topics:
            count = counts.get((language, topic), 0)
            if count < MIN_EXAMPLES:
                problems.append(Problem("warning", f"nlu/{language}/",
                                        f"{topic!r} has {count} examples in {language}; "
                                        f"aim for at least {MIN_EXAMPLES}"))
    for path in sorted((root / "tests" / "nlu_heldout").glob("*.yml")):
        for _, text, line in _nlu_examples(path):
            if text.casefold() in seen:
                problems.append(Problem("error", f"{path}:{line}", f"held-out example {text!r} is also in "
                                        f"the training data ({seen[text.casefold()][1]}); it would not test anything"))
    return problems


def check_catalogs(folder: Path, languages: LanguageRegistry) -> list[Problem]:
    problems = []
    for language in languages.codes:
        path = folder / language / "LC_MESSAGES" / "messages.po"
        if not path.exists():
            if language != "en":
                problems.append(Problem("error", str(path), f"no catalog for {language}; run `make catalogs`"))
            continue
        with path.open("rb") as handle:
            try:
                catalog = read_po(handle, locale=language)
            except Exception as exc:
                problems.append(Problem("error", str(path), f"cannot be read ({exc})"))
                continue
        untranslated = 0
        for message in catalog:
            if not message.id:
                continue
            ids = [str(i) for i in message.id] if isinstance(message.id, tuple | list) else [str(message.id)]
            strings = [str(s) for s in message.string] if isinstance(message.string, tuple | list) \
                else [str(message.string or "")]
            where = f"{path}:{message.lineno}"
            if not any(strings):
                untranslated += 1
                continue
            expected = set(_PLACEHOLDER.findall(ids[-1]))
            for translated in strings:
                if translated and set(_PLACEHOLDER.findall(translated)) != expected:
                    problems.append(Problem("error", where, f"placeholders {sorted(expected)} of {ids[0][:50]!r} "
                                            f"must appear unchanged in the translation"))
            if message.fuzzy:
                problems.append(Problem("warning", where, "translation marked fuzzy; it is not used until reviewed"))
        if untranslated and language != "en":
            problems.append(Problem("error", str(path), f"{untranslated} interface strings are not translated"))
    return problems


def check_emergency(folder: Path, languages: LanguageRegistry) -> list[Problem]:
    problems = []
    for language in languages.codes:
        if not (folder / f"{language}.yml").exists():
            problems.append(Problem("error", str(folder / f"{language}.yml"), f"no emergency phrases for {language}"))
    for path in sorted(folder.glob("*.yml")):
        try:
            rules = EmergencyRules(parse_phrase_file(path))
            tests = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tests") or {}
        except ContentError as exc:
            problems.append(Problem("error", str(path), str(exc)))
            continue
        for text in tests.get("match") or ():
            if rules.match(str(text)) is None:
                problems.append(Problem("error", str(path), f"test message {text!r} should be recognised as danger "
                                        "but matches no phrase"))
        for text in tests.get("no_match") or ():
            found = rules.match(str(text))
            if found is not None:
                problems.append(Problem("error", str(path), f"test message {text!r} must not be recognised as danger "
                                        f"but matches a {found.category} phrase"))
    return problems


def print_report(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for problem in errors + warnings:
        print(f"{problem.severity.upper():7} {problem.where}: {problem.message}")
    print(f"content check: {len(errors)} errors, {len(warnings)} warnings")
