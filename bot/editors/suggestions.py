"""`python -m bot suggestions`: the editors' review list of answers volunteers marked with /good.

Lists the new suggestions (`--all`: the handled ones too), marks one used (`--done ID [--note TEXT]`)
or dismissed (`--dismiss ID`), and exports the new ones as YAML (`--export FILE.yml`): per language,
the questions as NLU examples to paste into nlu/<language>/<area>.yml under their intent, and the
answers to improve knowledge_base/<language>/<area>.yml with.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import yaml

from bot.db.session import create_engine, create_schema, session_factory
from bot.handoff import suggestions
from bot.handoff.models import GoodAnswer

INDENT = "    "


@dataclass(frozen=True)
class Request:
    """What the editor asked for on the command line."""

    handled_too: bool = False
    done: int | None = None
    dismiss: int | None = None
    note: str | None = None
    export: Path | None = None


async def run_suggestions(database_url: str, request: Request, out: TextIO = sys.stdout,
                          now: datetime | None = None) -> int:
    """Carry out `request` on the database at `database_url` (migrated first); the exit status."""
    database = create_engine(database_url)
    try:
        await create_schema(database)
        sessions = session_factory(database)
        if request.done is not None or request.dismiss is not None:
            number = request.done if request.done is not None else request.dismiss
            assert number is not None
            status: suggestions.Handled = "used" if request.done is not None else "dismissed"
            async with sessions.begin() as session:
                found = await suggestions.handle(session, number, status, request.note, now or datetime.now(UTC))
            if found is None:
                print(f"There is no suggestion #{number}.", file=out)
                return 1
            print(f"Suggestion #{number} marked {status}.", file=out)
            return 0
        async with sessions() as session:
            listed = await suggestions.listed(session, handled_too=request.handled_too and request.export is None)
        if request.export is not None:
            request.export.write_text(export_yaml(listed, now or datetime.now(UTC)), encoding="utf-8")
            print(f"{len(listed)} new suggestions written to {request.export}.", file=out)
            return 0
        print(listing(listed, handled_too=request.handled_too), file=out)
        return 0
    finally:
        await database.dispose()


def listing(listed: Sequence[GoodAnswer], *, handled_too: bool) -> str:
    """The suggestions as a terminal reads them: a heading line each, then the question and the answer."""
    if not listed:
        return "No suggestions." if handled_too else "No new suggestions."
    blocks = []
    for suggestion in listed:
        head = f"#{suggestion.id}  {suggestion.created_at:%Y-%m-%d}  {suggestion.language}  " \
               f"{suggestion.topic or '(no topic)'}"
        if handled_too:
            head += f"  [{suggestion.status}]"
            if suggestion.handled_note:
                head += f"  {suggestion.handled_note}"
        blocks.append("\n".join([head, _labelled("question", suggestion.question or "-"),
                                 _labelled("answer", suggestion.answer)]))
    closing = "Mark one handled with --done ID [--note TEXT] or --dismiss ID; --export FILE.yml writes the new ones."
    return "\n\n".join([*blocks, closing])


def _labelled(label: str, text: str) -> str:
    width = 100 - len(INDENT)
    lines = [wrapped for line in text.splitlines() or [""]
             for wrapped in (textwrap.wrap(line, width) or [""])]
    first, *rest = lines
    return "\n".join([f"  {label}: {first}", *(f"{INDENT}{INDENT}{line}" for line in rest)])


# --- export -------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (`|`), as NLU files and answers are written."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _string)


def export_yaml(listed: Sequence[GoodAnswer], now: datetime) -> str:
    """One YAML document per language: `nlu:` items to paste under that intent, then the answers."""
    documents: list[dict[str, Any]] = []
    for language in sorted({s.language for s in listed}):
        mine = [s for s in listed if s.language == language]
        nlu = []
        for topic in sorted({s.topic for s in mine if s.topic}):
            examples = [" ".join(s.question.split()) for s in mine if s.topic == topic and s.question.strip()]
            if examples:
                nlu.append({"intent": topic, "examples": "".join(f"- {example}\n" for example in examples)})
        answers = [{"suggestion": s.id, "topic": s.topic, "question": _block(s.question), "answer": _block(s.answer)}
                   for s in mine]
        documents.append({"language": language, "nlu": nlu, "answers": answers})
    header = (f"# Answers volunteers marked as good, exported {now:%Y-%m-%d %H:%M} UTC ({len(listed)} new).\n"
              "# nlu: paste the examples into nlu/<language>/<area>.yml under the same intent (suggestions\n"
              "# without a topic are under answers only: choose their intent yourself). answers: use them to\n"
              "# improve knowledge_base/<language>/<area>.yml, then run make check-content.\n"
              "# Afterwards: python -m bot suggestions --done ID (or --dismiss ID).\n")
    if not documents:
        return header
    return header + yaml.dump_all(documents, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000,
                                  explicit_start=True)


def _block(text: str) -> str:
    """A text as a literal block: trailing spaces would force a quoted string."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(lines) + ("\n" if len(lines) > 1 else "")
