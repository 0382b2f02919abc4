"""Held-out accuracy after a retraining, against the last accepted one (bench/heldout-baseline.json).

`make train` (`python -m bot train --evaluate`) runs this after a training that happened: bench.heldout's
`score` on every tests/nlu_heldout/<lang>.yml. A language that lost more than one point is reported
in a box nobody can miss and the command fails; the new model is kept (it is already the one in use)
and the baseline stays as it was. A result that holds or improves becomes the new baseline: commit
bench/heldout-baseline.json with the examples. `python -m bench.regression` checks the current
model again; with --accept its accuracy becomes the baseline even if it dropped (a drop understood
and wanted, such as after removing wrong examples).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import yaml

from bench.heldout import LanguageScore, score
from bot.engine.process import model_path
from bot.engine.training import about
from bot.settings import Settings

TOLERANCE = 1.0  # points of accuracy a language may lose in a retraining before it is reported
SECONDS_PER_LANGUAGE = 18.0  # measured: `rasa test nlu` on one language's 252 held-out messages, 2 cores
TOPICS_SHOWN = 3
DROPPED = 1  # exit code of a retraining that made understanding worse


@dataclass(frozen=True)
class Accepted:
    """A language's last accepted held-out result."""

    accuracy: float
    examples: int
    f1: dict[str, float]


@dataclass(frozen=True)
class Drop:
    """A language that lost more than the tolerance, and its topics that fell most (intent, F1 before, after)."""

    language: str
    before: float
    after: float
    topics: list[tuple[str, float, float]]


def baseline_path(settings: Settings) -> Path:
    return settings.root / "bench" / "heldout-baseline.json"


def load_baseline(path: Path) -> dict[str, Accepted]:
    """The accepted result per language; none when the file does not exist yet."""
    if not path.exists():
        return {}
    languages = json.loads(path.read_text(encoding="utf-8"))["languages"]
    return {code: Accepted(float(entry["accuracy"]), int(entry.get("examples", 0)), dict(entry.get("f1", {})))
            for code, entry in languages.items()}


def write_baseline(path: Path, scores: Sequence[LanguageScore], model: str, *, ratchet: bool = False) -> None:
    """Make these scores the accepted ones (languages not scored keep theirs).

    With `ratchet`, a language's accepted accuracy only rises: small drops within the tolerance are
    not accepted, so they cannot add up over many trainings.
    """
    accepted = load_baseline(path)
    languages = {code: {"accuracy": a.accuracy, "examples": a.examples, "f1": a.f1} for code, a in accepted.items()}
    for s in scores:
        if ratchet and s.language in accepted and accepted[s.language].accuracy > s.accuracy:
            continue
        languages[s.language] = {"accuracy": round(s.accuracy, 4), "examples": s.examples,
                                 "f1": {name: round(f1, 3) for name, f1 in sorted(s.f1.items())}}
    document = {
        "about": "Last accepted held-out intent accuracy per language (bench/regression.py). `make train` "
                 f"fails when a retrained model loses more than {TOLERANCE} point in a language, and "
                 "raises a language's number here when it improves (`python -m bench.regression --accept` "
                 "accepts a drop on purpose).",
        "accepted": datetime.now(UTC).date().isoformat(),
        "model": model,
        "languages": dict(sorted(languages.items())),
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def find_drops(baseline: Mapping[str, Accepted], scores: Sequence[LanguageScore],
               tolerance: float = TOLERANCE) -> list[Drop]:
    """The languages whose accuracy fell by more than `tolerance` points."""
    drops = []
    for s in scores:
        accepted = baseline.get(s.language)
        if accepted is None or round((accepted.accuracy - s.accuracy) * 100, 6) <= tolerance:
            continue
        fallen = [(name, accepted.f1[name], f1) for name, f1 in s.f1.items()
                  if name in accepted.f1 and f1 < accepted.f1[name]]
        fallen.sort(key=lambda topic: topic[2] - topic[1])
        drops.append(Drop(s.language, accepted.accuracy, s.accuracy, fallen[:TOPICS_SHOWN]))
    return drops


def language_names(root: Path) -> dict[str, str]:
    path = root / "knowledge_base" / "languages.yml"
    if not path.exists():
        return {}
    languages = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {code: str(entry.get("name", code)) for code, entry in languages.items() if isinstance(entry, dict)}


def summary_table(baseline: Mapping[str, Accepted], scores: Sequence[LanguageScore],
                  names: Mapping[str, str]) -> str:
    """Before and after per language, in a few lines."""
    lines = ["Held-out accuracy (questions the model never trained on):",
             f"  {'Language':<14} {'Before':>7} {'Now':>7} {'Change':>8}"]
    for s in scores:
        accepted = baseline.get(s.language)
        before = f"{accepted.accuracy:.1%}" if accepted else "new"
        change = f"{(s.accuracy - accepted.accuracy) * 100:+.1f}" if accepted else ""
        label = f"{s.language} {names.get(s.language, '')}".strip()
        lines.append(f"  {label:<14} {before:>7} {s.accuracy:>7.1%} {change:>8}".rstrip())
    return "\n".join(lines)


def loud_report(drops: Sequence[Drop], names: Mapping[str, str], *, fancy: bool = True) -> str:
    """The drops in a box that cannot be missed, with what to do about them."""
    arrow = "→" if fancy else "->"
    lines = ["UNDERSTANDING GOT WORSE: held-out accuracy dropped after this training", ""]
    for drop in drops:
        name = names.get(drop.language, drop.language)
        points = (drop.after - drop.before) * 100
        lines.append(f"{name} ({drop.language}): {drop.before:.1%} {arrow} {drop.after:.1%} ({points:+.1f} points)")
        if drop.topics:
            fell = ", ".join(f"{intent} {before:.2f} {arrow} {after:.2f}" for intent, before, after in drop.topics)
            lines.append(f"    topics whose F1 fell most: {fell}")
    lines += [
        "",
        "What to do:",
        f"  1. Look at the example questions you added or changed (git diff nlu/{_only(drops)}):",
        "     one that belongs to another topic, or many near-copies of one question,",
        "     pulls answers the wrong way. Fix or remove them, then run make train again.",
        "  2. make accuracy gives the full report per language (bench/UNDERSTANDING.md).",
        "",
        "The new model is kept and in use; bench/heldout-baseline.json is unchanged.",
        "If the drop is understood and wanted: .venv/bin/python -m bench.regression --accept",
    ]
    return _box(lines, fancy=fancy)


def judge(scores: Sequence[LanguageScore], baseline_file: Path, model: str, *, names: Mapping[str, str],
          stream: TextIO, accept: bool = False) -> int:
    """Compare with the baseline: report a drop loudly (non-zero), otherwise make the scores the baseline."""
    baseline = load_baseline(baseline_file)
    print(summary_table(baseline, scores, names), file=stream)
    drops = find_drops(baseline, scores)
    if drops and not accept:
        encoding = getattr(stream, "encoding", None)  # box drawing where the terminal can show it
        fancy = encoding is None or encoding.lower().replace("-", "").startswith("utf")
        report = loud_report(drops, names, fancy=fancy)
        print(f"\x1b[1;31m{report}\x1b[0m" if stream.isatty() else report, file=stream, flush=True)
        return DROPPED
    write_baseline(baseline_file, scores, model, ratchet=not accept)
    print(f"Accepted: {baseline_file} updated; commit it with your examples.", file=stream, flush=True)
    return 0


def evaluate(settings: Settings, model: Path, stream: TextIO) -> list[LanguageScore]:
    """Score the model on every language's held-out questions, a line per language."""
    files = sorted((settings.root / "tests" / "nlu_heldout").glob("*.yml"))
    print(f"Checking understanding on held-out questions in {len(files)} language{'s' if len(files) != 1 else ''} "
          f"({about(len(files) * SECONDS_PER_LANGUAGE)}) ...", file=stream, flush=True)
    scores = []
    for number, heldout in enumerate(files, 1):
        started = time.monotonic()
        result = score(settings, model, heldout, settings.state_dir / "nlu-test" / heldout.stem)
        print(f"  [{number}/{len(files)}] {result.language}: {result.accuracy:.1%} of {result.examples} "
              f"({time.monotonic() - started:.0f} s)", file=stream, flush=True)
        scores.append(result)
    return scores


def check_heldout(settings: Settings, model: Path, *, accept: bool = False, stream: TextIO | None = None) -> int:
    """Evaluate `model` on the held-out split and judge it against the baseline; the command's exit code."""
    out = stream or sys.stderr
    if not any((settings.root / "tests" / "nlu_heldout").glob("*.yml")):
        print("No held-out questions (tests/nlu_heldout/*.yml): nothing to compare.", file=out)
        return 0
    try:
        scores = evaluate(settings, model, out)
    except RuntimeError as error:
        print(f"The held-out evaluation failed: {error}", file=out)
        return 1
    names = language_names(settings.root)
    return judge(scores, baseline_path(settings), model.name.removesuffix(".tar.gz"), names=names, stream=out,
                 accept=accept)


def _only(drops: Sequence[Drop]) -> str:
    return drops[0].language if len(drops) == 1 else ""


def _box(lines: Sequence[str], *, fancy: bool) -> str:
    width = max(len(line) for line in lines)
    top, side, bottom = ("╔═╗", "║", "╚═╝") if fancy else ("###", "#", "###")
    rows = [f"{side}  {line:<{width}}  {side}" for line in lines]
    return "\n".join([top[0] + top[1] * (width + 4) + top[2], *rows, bottom[0] + bottom[1] * (width + 4) + bottom[2]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accept", action="store_true", help="make the current accuracy the baseline, even if lower")
    args = parser.parse_args()
    settings = Settings.from_env()
    model = model_path(settings)
    if not model.exists():
        print("No model trained from the current sources; run make train first.", file=sys.stderr)
        return 1
    return check_heldout(settings, model, accept=args.accept)


if __name__ == "__main__":
    sys.exit(main())
