"""`make check-content`: validate the knowledge base, NLU data, flows, catalogs and danger phrases.

Every problem names its file (and line where there is one) and says in plain words what to fix.
Errors fail the check; warnings are shown but do not; notes summarise what awaits review.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from babel.messages.pofile import read_po

from bot.directory import Directory, distance_km, read_directory
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
MAX_CITY_DISTANCE_KM = 80  # a service further from its city's centre has its coordinates wrong (or swapped)
DEFAULT_MAX_AGE_DAYS = 365


@dataclass(frozen=True)
class Problem:
    severity: Literal["error", "warning", "note"]
    where: str
    message: str


def check_all(root: Path, today: dt.date | None = None) -> list[Problem]:
    """Run every check; returns the problems found."""
    problems: list[Problem] = []
    folder = root / "knowledge_base"
    try:
        languages = LanguageRegistry.load(folder / "languages.yml")
        content = load_content(folder)
    except ContentError as exc:
        return [_from_error(exc)]
    problems += check_knowledge(content, languages)
    problems += check_flows(root, content)
    problems += check_guided(root, content, languages)
    problems += check_nlu(root, content, languages)
    problems += check_catalogs(root / "locales", languages)
    problems += check_emergency(folder / "emergency", languages)
    problems += check_ages(content, max_age_days(folder), today or dt.date.today())
    problems += check_review(content, languages)
    return problems


def max_age_days(folder: Path) -> int:
    """How old a last_reviewed date may be, from knowledge_base/review.yml."""
    path = folder / "review.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return int((raw or {}).get("max_age_days", DEFAULT_MAX_AGE_DAYS))


def _from_error(exc: ContentError) -> Problem:
    """A loader's "file:line: message" as a problem."""
    where, _, message = str(exc).partition(": ")
    return Problem("error", where, message or where)


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
                english = content.entries.get((topic, "en"))
                area = content.topics[topic].area
                model = f"; translate the English one at {english.file}:{english.line}" if english else ""
                problems.append(Problem("error", f"knowledge_base/{complete.code}/{area}.yml",
                                        f"topic {topic!r} has no answer in {complete.name}, which languages.yml "
                                        f"marks as complete{model}"))
    return problems


def check_ages(content: Content, max_age: int, today: dt.date) -> list[Problem]:
    """Answers not reviewed for longer than the configured age, and translations older than the English."""
    problems = []
    for (topic, language), entry in sorted(content.entries.items()):
        where = f"{entry.file}:{entry.line}"
        if not content.topics.get(topic) or not content.topics[topic].dated:
            continue
        age = (today - entry.last_reviewed).days
        if age > max_age:
            problems.append(Problem("warning", where, f"{topic!r} was last reviewed on {entry.last_reviewed} "
                                    f"({age} days ago; review.yml allows {max_age}): check it is still right, "
                                    "then update last_reviewed"))
        english = content.entries.get((topic, "en"))
        if language != "en" and english is not None and entry.last_reviewed < english.last_reviewed:
            problems.append(Problem("warning", where, f"the English answer of {topic!r} was updated on "
                                    f"{english.last_reviewed}, after this translation ({entry.last_reviewed}): "
                                    "bring the translation up to date"))
    return problems


def check_review(content: Content, languages: LanguageRegistry) -> list[Problem]:
    """Reviewed answers changed since, approvals written by hand, and what awaits review per language."""
    problems = []
    for entry in sorted(content.entries.values(), key=lambda e: (e.file, e.line)):
        if entry.review.status == "changed" or entry.review.by_hand:
            problems.append(Problem("warning", f"{entry.file}:{entry.line}",
                                    f"{entry.topic!r}: {entry.review.describe()}"))
    for path, review in sorted(content.file_reviews.items()):
        if review.status == "changed" or review.by_hand:
            problems.append(Problem("warning", path, review.describe()))
    for language in languages.languages:
        entries = [e for e in content.entries.values() if e.language == language.code]
        waiting = sum(1 for e in entries if not e.review.reviewed)
        files = sum(1 for path, review in content.file_reviews.items()
                    if Path(path).parent.name == language.code and not review.reviewed)
        if waiting or files:
            problems.append(Problem("note", f"knowledge_base/{language.code}/",
                                    f"{waiting} of {len(entries)} answers and {files} text files await review "
                                    f"in {language.name} (`make review` lists them)"))
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
    try:
        flows = load_flows(root / "flows" / "guided", frozenset(content.topics))
    except ContentError as exc:
        return [_from_error(exc)]
    directory, broken = read_directory(root / "knowledge_base" / "services")
    problems = [_from_error(ContentError(message)) for message in broken] + check_directory(directory)
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


def check_directory(directory: Directory) -> list[Problem]:
    """Services whose coordinates are far from their city: usually latitude and longitude swapped."""
    problems = []
    for service in directory.services:
        city = directory.cities.get(service.city or "")
        if city is None or service.latitude is None or service.longitude is None:
            continue
        distance = distance_km((service.latitude, service.longitude), (city.latitude, city.longitude))
        if distance > MAX_CITY_DISTANCE_KM:
            problems.append(Problem("error", f"{service.file}:{service.line}", f"service {service.id!r} is "
                                    f"{distance:,.0f} km from {city.names[0]}, its city: check its coordinates "
                                    "(latitude first, then longitude)"))
    return problems


def nlu_examples(path: Path) -> list[tuple[str, str, int]]:
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


def check_nlu(root: Path, content: Content, languages: LanguageRegistry | None = None) -> list[Problem]:
    problems = []
    seen: dict[str, tuple[str, str]] = {}
    counts: dict[tuple[str, str], int] = {}
    for path in sorted((root / "nlu").glob("*/*.yml")):
        language = path.parent.name
        try:
            examples = nlu_examples(path)
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
    codes = languages.codes if languages else tuple(sorted({language for language, _ in counts}))
    for language in codes:
        short = [(topic, counts.get((language, topic), 0)) for topic in content.topics
                 if counts.get((language, topic), 0) < MIN_EXAMPLES]
        if len(short) > 5:
            total = sum(count for (lang, _), count in counts.items() if lang == language)
            problems.append(Problem("warning", f"nlu/{language}/", f"{len(short)} of {len(content.topics)} topics "
                                    f"have fewer than {MIN_EXAMPLES} example questions in {language} ({total} "
                                    "examples in all): the bot will often not understand this language"))
            continue
        for topic, count in short:
            problems.append(Problem("warning", f"nlu/{language}/",
                                    f"{topic!r} has {count} examples in {language}; aim for at least {MIN_EXAMPLES}"))
    for path in sorted((root / "tests" / "nlu_heldout").glob("*.yml")):
        for _, text, line in nlu_examples(path):
            if text.casefold() in seen:
                # The held-out text is not repeated: whoever writes training data should not see test questions.
                problems.append(Problem("error", f"{path}:{line}", "this test question is also in the training "
                                        f"data ({seen[text.casefold()][1]}); remove it from one of the two"))
    return problems


def check_catalogs(folder: Path, languages: LanguageRegistry) -> list[Problem]:
    problems = []
    complete = {language.code for language in languages.languages if language.answers_complete}
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
        untranslated, first_untranslated = 0, 0
        for message in catalog:
            if not message.id:
                continue
            ids = [str(i) for i in message.id] if isinstance(message.id, tuple | list) else [str(message.id)]
            strings = [str(s) for s in message.string] if isinstance(message.string, tuple | list) \
                else [str(message.string or "")]
            where = f"{path}:{message.lineno}"
            if not any(strings):
                untranslated += 1
                first_untranslated = first_untranslated or message.lineno or 0
                continue
            expected = set(_PLACEHOLDER.findall(ids[-1]))
            for translated in strings:
                if translated and set(_PLACEHOLDER.findall(translated)) != expected:
                    problems.append(Problem("error", where, f"placeholders {sorted(expected)} of {ids[0][:50]!r} "
                                            f"must appear unchanged in the translation"))
            if message.fuzzy:
                problems.append(Problem("warning", where, "translation marked fuzzy; it is not used until reviewed"))
        if untranslated and language != "en":
            # A partial language shows English for the strings it lacks; a complete one must have them all.
            problems.append(Problem("error" if language in complete else "warning", f"{path}:{first_untranslated}",
                                    f"{untranslated} interface strings are not translated (the first is here); "
                                    "users see them in English"))
    return problems


def check_emergency(folder: Path, languages: LanguageRegistry) -> list[Problem]:
    problems = []
    for language in languages.codes:
        if not (folder / f"{language}.yml").exists():
            problems.append(Problem("error", str(folder / f"{language}.yml"), f"no emergency phrases for {language}"))
    for path in sorted(folder.glob("*.yml")):
        try:
            phrases = parse_phrase_file(path)
            if not phrases and path.stem in languages.codes:
                problems.append(Problem("warning", str(path), "no danger phrases yet: messages in this language "
                                        "are never recognised as an emergency (write them with a native speaker "
                                        "who works with people in danger)"))
            rules = EmergencyRules(phrases)
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


def print_report(problems: list[Problem], root: Path | None = None) -> None:
    by_severity = {severity: [p for p in problems if p.severity == severity] for severity in ("error", "warning",
                                                                                             "note")}
    prefix = f"{root}/" if root else ""
    for severity, found in by_severity.items():
        for problem in found:
            print(f"{severity.upper():7} {problem.where.removeprefix(prefix)}: {problem.message}")
    print(f"content check: {len(by_severity['error'])} errors, {len(by_severity['warning'])} warnings")
