"""Training the engine's model: an estimate before, progress during, a history after.

Before: how long it will take, from the last trainings on this machine (.run/training-history.json)
scaled by the number of example questions. During: Rasa's output is copied line by line to the log
file and its milestones ("Starting to train component 'X'", ...) become a percentage with elapsed and
remaining time, redrawn in place on a terminal and written one line per stage otherwise (CI logs).
After: the run joins the history, so the next estimate is this machine's own.
"""

from __future__ import annotations

import json
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TextIO

from bot.errors import EngineUnavailable
from bot.settings import Settings

HISTORY_FILE = "training-history.json"
HISTORY_SIZE = 20
RECENT_RUNS = 5  # the estimate is the median pace of the last few full trainings
# Measured on 2 cores: a 96-example project trains in 16 s (starting Rasa, loading the sentence
# model, saving), the 13,300-example model in 704 s.
OVERHEAD_SECONDS = 15.0
SECONDS_PER_1000 = 52.0
# When Rasa logged each milestone in that 704 s training: the progress bar's landmarks until this
# machine has trained once and has landmarks of its own.
REFERENCE_SECONDS = 704.0
REFERENCE_MARKS = {
    "validate": 4.0,
    "start:CountVectorsFeaturizer": 36.0,
    "done:CountVectorsFeaturizer": 36.0,
    "start:CountVectorsFeaturizer#2": 44.0,
    "done:CountVectorsFeaturizer#2": 46.0,
    "start:LogisticRegressionClassifier": 151.0,  # the sentence vectors of every example come before
    "done:LogisticRegressionClassifier": 704.0,
}
TICK_SECONDS = 1.0
HEARTBEAT_SECONDS = 60.0  # without a terminal, a line at least this often (CI kills silent jobs)
TAIL_LINES = 15

# What Rasa 3.6 logs while training (rasa/cli/train.py, rasa/engine/training/hooks.py, rasa/model_training.py).
MILESTONES = (
    (re.compile(r"Started validating domain and training data"), "validate", "Checking the training data"),
    (re.compile(r"Starting to train component '(\w+)'"), "start", "Training {}"),
    (re.compile(r"Finished training component '(\w+)'"), "done", "Trained {}"),
    (re.compile(r"Restored component '(\w+)' from cache"), "cached", "Reused {} from the cache"),
    (re.compile(r"Your Rasa model is trained and saved"), "saved", "Saving the model"),
)
EXAMPLE_LINE = re.compile(r"^\s+- ", re.MULTILINE)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class TrainingRun:
    """One training that succeeded: when, how long, on what, and when each milestone came."""

    date: str
    seconds: float
    examples: int
    languages: list[str]
    marks: dict[str, float] = field(default_factory=dict)
    restored: list[str] = field(default_factory=list)

    @property
    def comparable(self) -> bool:
        """Whether every NLU component was trained: one restored from Rasa's cache says nothing of the pace."""
        return self.examples > 0 and self.seconds > 0 and all(name.endswith("Policy") for name in self.restored)


@dataclass(frozen=True)
class Milestone:
    key: str  # kind, component and occurrence: "start:CountVectorsFeaturizer#2"
    kind: str
    component: str
    label: str


class MilestoneParser:
    """Recognises Rasa's training milestones in its output, numbering a component's repeats."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def parse(self, line: str) -> Milestone | None:
        for pattern, kind, label in MILESTONES:
            match = pattern.search(line)
            if match is None:
                continue
            component = match.group(1) if pattern.groups else ""
            base = f"{kind}:{component}" if component else kind
            self._seen[base] += 1
            count = self._seen[base]
            return Milestone(base if count == 1 else f"{base}#{count}", kind, component, label.format(component))
        return None


def count_examples(nlu_dir: Path) -> tuple[int, list[str]]:
    """The example questions (`- ` lines of the intents' examples) and the languages (folders) they are in."""
    total, languages = 0, set()
    for path in sorted(nlu_dir.rglob("*.yml")):
        count = len(EXAMPLE_LINE.findall(path.read_text(encoding="utf-8")))
        parts = path.relative_to(nlu_dir).parts
        if count and len(parts) > 1:
            total += count
            languages.add(parts[0])
    return total, sorted(languages)


def load_history(path: Path) -> list[TrainingRun]:
    """The recorded trainings, oldest first; a missing or damaged file is an empty history."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return [TrainingRun(**entry) for entry in entries]
    except (OSError, ValueError, TypeError):
        return []


def append_history(path: Path, run: TrainingRun, keep: int = HISTORY_SIZE) -> list[TrainingRun]:
    """Add a training to the history, keeping the newest `keep`; returns what was written."""
    runs = [*load_history(path), run][-keep:]
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps([asdict(r) for r in runs], indent=1) + "\n", encoding="utf-8")
    temporary.replace(path)
    return runs


def last_comparable(history: Sequence[TrainingRun]) -> TrainingRun | None:
    return next((run for run in reversed(history) if run.comparable), None)


def estimate_seconds(history: Sequence[TrainingRun], examples: int) -> float:
    """Expected duration: the recent pace per example on this machine (or the measured default) times `examples`."""
    paces = [max(run.seconds - OVERHEAD_SECONDS, 0.0) / run.examples
             for run in [r for r in history if r.comparable][-RECENT_RUNS:]]
    pace = statistics.median(paces) if paces else SECONDS_PER_1000 / 1000
    return OVERHEAD_SECONDS + pace * examples


def milestone_fractions(history: Sequence[TrainingRun]) -> dict[str, float]:
    """How far into a training each milestone comes, from the last full training (or the reference one)."""
    last = next((run for run in reversed(history) if run.comparable and run.marks), None)
    marks, total = (last.marks, last.seconds) if last else (REFERENCE_MARKS, REFERENCE_SECONDS)
    return {key: min(seconds / total, 1.0) for key, seconds in marks.items()}


def clock(seconds: float) -> str:
    """A duration as people read it: "45 s", "11 min 44 s", "1 h 05 min"."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def about(seconds: float) -> str:
    """A rough duration: "less than a minute", "about 1 minute", "about 12 minutes"."""
    if seconds < 45:
        return "less than a minute"
    minutes = max(round(seconds / 60), 1)
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


def headline(examples: int, languages: Sequence[str], estimate: float, last: TrainingRun | None) -> str:
    """What is about to happen and how long it will take."""
    spoken = f"{len(languages)} language{'s' if len(languages) != 1 else ''}"
    since = f"last time {clock(last.seconds)}" if last else "no training on this machine yet to compare with"
    return f"Training on {examples:,} examples in {spoken}; {about(estimate)} ({since})."


class Progress:
    """Rasa's milestones and the clock as a percentage with elapsed and remaining time."""

    def __init__(self, stream: TextIO, expected: float, fractions: Mapping[str, float], *, tty: bool,
                 heartbeat: float = HEARTBEAT_SECONDS) -> None:
        self.stream = stream
        self.expected = expected
        self.fractions = dict(fractions)
        self.tty = tty
        self.heartbeat = heartbeat
        self.parser = MilestoneParser()
        self.label = "Starting Rasa"
        self.marks: dict[str, float] = {}
        self.restored: list[str] = []
        self.reached = 0.0
        self._last_written = 0.0

    def feed(self, line: str, elapsed: float) -> None:
        """Take one line of Rasa's output; a milestone moves the progress and is shown."""
        milestone = self.parser.parse(line)
        if milestone is None:
            return
        self.marks.setdefault(milestone.key, round(elapsed, 1))
        if milestone.kind == "cached":
            self.restored.append(milestone.component)
        self.label = milestone.label
        # A component restored from the cache is where its training would have finished.
        fraction = self.fractions.get(milestone.key.replace("cached:", "done:", 1))
        if fraction is not None:
            self.reached = max(self.reached, fraction)
            if fraction >= 0.1 and elapsed > 0:
                self.expected = elapsed / fraction  # this machine's pace today, not the history's
        self._show(elapsed, stage=True)

    def tick(self, elapsed: float) -> None:
        """Redraw the clock (terminal), or write a line when none was written for a while (CI)."""
        self._show(elapsed, stage=False)

    def fraction(self, elapsed: float) -> float:
        """Done so far: the clock against the estimate, held between the last milestone and the next."""
        upcoming = min((f for key, f in self.fractions.items() if key not in self.marks and f > self.reached),
                       default=1.0)
        by_clock = elapsed / self.expected if self.expected > 0 else 0.0
        return min(max(self.reached, min(by_clock, upcoming - 0.01)), 0.99)

    def status(self, elapsed: float) -> str:
        remaining = self.expected - elapsed
        if remaining < -30:
            left = "taking longer than estimated"
        else:
            left = "almost done" if remaining < 10 else f"{about(remaining)} left"
        return f"[{self.fraction(elapsed):4.0%}] {self.label} | {clock(elapsed)} elapsed, {left}"

    def finish(self, text: str) -> None:
        """End the progress display with a last line."""
        self.stream.write(f"\r{text}\x1b[K\n" if self.tty else f"{text}\n")
        self.stream.flush()

    def abandon(self) -> None:
        """Leave the in-place line so that what follows starts on a line of its own."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self, elapsed: float, *, stage: bool) -> None:
        if self.tty:
            self.stream.write(f"\r{self.status(elapsed)}\x1b[K")
        elif stage or elapsed - self._last_written >= self.heartbeat:
            self.stream.write(self.status(elapsed) + "\n")
            self._last_written = elapsed
        else:
            return
        self.stream.flush()


def run_with_progress(command: Sequence[str], *, cwd: Path, env: Mapping[str, str], log_path: Path,
                      progress: Progress) -> int:
    """Run `command`, copying its output to `log_path` as written and its milestones to `progress`."""
    started = time.monotonic()
    lines: queue.Queue[bytes | None] = queue.Queue()
    with log_path.open("wb") as log:
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        # A reader thread, so that the clock is redrawn during the long steps Rasa says nothing in.
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
        try:
            while (line := _next_line(lines, progress, started)) is not None:
                log.write(line)
                log.flush()
                progress.feed(line.decode("utf-8", errors="replace"), time.monotonic() - started)
            return process.wait()
        finally:
            if process.poll() is None:  # interrupted: do not leave Rasa training on its own
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _pump(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _next_line(lines: queue.Queue[bytes | None], progress: Progress, started: float) -> bytes | None:
    while True:
        try:
            return lines.get(timeout=TICK_SECONDS)
        except queue.Empty:
            progress.tick(time.monotonic() - started)


def log_tail(log_path: Path, count: int = TAIL_LINES) -> list[str]:
    """The last lines of a log as a terminal showed them (progress bars at their last state, no colours)."""
    text = log_path.read_text(encoding="utf-8", errors="replace")
    lines = [ANSI.sub("", line.rsplit("\r", 1)[-1]) for line in text.splitlines()]
    return [line for line in lines if line.strip()][-count:]


def train_with_progress(settings: Settings, command: Sequence[str], env: Mapping[str, str], log_path: Path,
                        target: Path, *, stream: TextIO | None = None) -> TrainingRun:
    """Run Rasa's training with an estimate and progress; record it, or show the log's end and raise."""
    out = stream or sys.stderr
    history_path = settings.state_dir / HISTORY_FILE
    history = load_history(history_path)
    examples, languages = count_examples(settings.root / "nlu")
    expected = estimate_seconds(history, examples)
    print(headline(examples, languages, expected, last_comparable(history)), file=out)
    print(f"Rasa's full log: {log_path}", file=out, flush=True)
    progress = Progress(out, expected, milestone_fractions(history), tty=out.isatty())
    started = time.monotonic()
    try:
        code = run_with_progress(command, cwd=settings.root, env={**env, "PYTHONUNBUFFERED": "1"},
                                 log_path=log_path, progress=progress)
    except BaseException:
        progress.abandon()
        raise
    seconds = time.monotonic() - started
    if code != 0 or not target.exists():
        progress.abandon()
        tail = "\n".join(f"    {line}" for line in log_tail(log_path))
        print(f"Training FAILED (exit code {code}). The last lines of Rasa's log:\n{tail}\n"
              f"The full log: {log_path}", file=out, flush=True)
        raise EngineUnavailable(f"training failed (exit code {code}); see {log_path}")
    progress.finish(f"[100%] Model trained in {clock(seconds)}: {target.name}")
    run = TrainingRun(date=datetime.now(UTC).isoformat(timespec="seconds"), seconds=round(seconds, 1),
                      examples=examples, languages=languages, marks=progress.marks, restored=progress.restored)
    append_history(history_path, run)
    return run
