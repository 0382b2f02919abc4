"""bench/REPORT.md and its pictures, from one run's measurements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bench.lid import CATEGORIES, Score
from bench.load import Step
from bench.understanding import Understanding, plot_confusion

# Goals from the benchmarks issue.
P95_AT_30_MS = 30.0
OVERHEAD_AT_30 = 1.3
SUSTAINED_RATE = 100.0
LID_GOALS = {"single-words": 0.90, "word-pairs": 0.98, "sentences": 0.995}


@dataclass
class Report:
    smoke: bool
    date: dt.datetime
    command: str
    machine: str
    steps: list[Step] = field(default_factory=list)
    lid: list[Score] = field(default_factory=list)
    understanding: list[Understanding] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    engine_profile: dict[str, float] = field(default_factory=dict)
    engine_busy: float = 0.0
    training_seconds: float | None = None
    cold_start_seconds: float = 0.0
    model_mb: float = 0.0
    bot_rss_mb: float = 0.0
    engine_rss_mb: float = 0.0

    def step(self, target: str, rate: float) -> Step | None:
        return next((s for s in self.steps if s.target == target and s.rate == rate), None)

    def sustained(self) -> float | None:
        """The highest offered rate the bot sustained with p95 under 100 ms and nothing lost."""
        good = [s.rate for s in self.steps if s.target == "bot" and s.p95 < 100 and s.lost == 0]
        return max(good) if good else None


def write_report(report: Report, out: Path, topics: list[str]) -> None:
    lines = [
        "# Benchmarks" + (" (smoke run: every part, briefly; not for conclusions)" if report.smoke else ""),
        "",
        f"- Date: {report.date:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {report.machine}",
        f"- Command: `{report.command}` (`make bench`); the quick variant `make bench-smoke` runs in `make test`.",
        "",
    ]
    lines += _targets(report) + _load(report, out) + _profile(report) + _lid(report)
    lines += _understanding(report, out, topics) + _cost(report)
    (out / "REPORT.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _targets(report: Report) -> list[str]:
    bot30, engine30 = report.step("bot", 30.0), report.step("engine", 30.0)
    rows = ["## Targets", "", "| target | goal | measured | met |", "|---|---|---|---|"]
    if bot30 and engine30:
        ratio = bot30.p95 / engine30.p95 if engine30.p95 else float("nan")
        rows.append(f"| p95 at 30 msg/s | ≤ {P95_AT_30_MS:.0f} ms | {bot30.p95:.1f} ms | "
                    f"{_yes(bot30.p95 <= P95_AT_30_MS)} |")
        rows.append(f"| bot overhead at 30 msg/s (p95 bot / p95 engine alone) | ≤ {OVERHEAD_AT_30}× | "
                    f"{ratio:.2f}× | {_yes(ratio <= OVERHEAD_AT_30)} |")
    sustained = report.sustained()
    rows.append(f"| highest rate with p95 < 100 ms | ≥ {SUSTAINED_RATE:.0f} msg/s | "
                f"{f'{sustained:.0f} msg/s' if sustained else 'none of the tested rates'} | "
                f"{_yes(bool(sustained and sustained >= SUSTAINED_RATE))} |")
    resolver = [s for s in report.lid if s.detector.startswith("resolver")]
    for category, goal in LID_GOALS.items():
        done = [s for s in resolver if s.category == category]
        if done:
            accuracy = sum(s.correct for s in done) / sum(s.total for s in done)
            rows.append(f"| language identification, {category} | ≥ {100 * goal:.1f}% | {100 * accuracy:.1f}% | "
                        f"{_yes(accuracy >= goal)} |")
    return [*rows, ""]


def _load(report: Report, out: Path) -> list[str]:
    rows = ["## End-to-end latency", "",
            "Time from an update becoming available (pushed into the fake Bot API's getUpdates) to the bot's "
            "`sendMessage` arriving there; the bot runs as deployed (`python -m bot telegram`, long polling, "
            "300 simulated users, one message in flight per user, mixed languages, 70% text / 25% buttons / "
            "5% commands). The engine alone: the same actions posted to its REST channel.", "",
            "| offered msg/s | bot p50 | bot p95 | bot p99 | engine p50 | engine p95 | overhead (p95) | lost |",
            "|---|---|---|---|---|---|---|---|"]
    for bot in (s for s in report.steps if s.target == "bot"):
        engine = report.step("engine", bot.rate)
        ratio = f"{bot.p95 / engine.p95:.2f}×" if engine and engine.p95 else "n/a"
        rows.append(f"| {bot.rate:.0f} | {bot.p50:.1f} ms | {bot.p95:.1f} ms | {bot.p99:.1f} ms | "
                    f"{engine.p50 if engine else float('nan'):.1f} ms | {engine.p95 if engine else float('nan'):.1f} ms"
                    f" | {ratio} | {bot.lost} of {bot.sent} |")
    _plot_latency(report, out / "latency.png")
    return [*rows, "", "![latency vs offered load](latency.png)", ""]


def _profile(report: Report) -> list[str]:
    if not report.stages:
        return []
    total = sum(report.stages.values())
    rows = ["## Where one message's time goes", "", "Median per stage, in process (no Telegram):", "",
            "| stage | ms | share |", "|---|---|---|"]
    for name, value in sorted(report.stages.items(), key=lambda item: -item[1]):
        rows.append(f"| {name} | {value:.2f} | {100 * value / total:.0f}% |")
    if report.engine_profile:
        rows += ["", "Inside the engine: py-spy samples the Rasa process while it serves 20 messages per second "
                 f"through the bot's channel; it spent {100 * report.engine_busy:.0f}% of the time handling messages. "
                 "Share of that time in each part (inclusive, so a part contains those indented under it):", "",
                 "| part of the engine's work | share of message-handling time |", "|---|---|"]
        for label, share in report.engine_profile.items():
            rows.append(f"| {label} | {100 * share:.0f}% |")
    return [*rows, ""]


def _lid(report: Report) -> list[str]:
    if not report.lid:
        return []
    languages = sorted({s.language for s in report.lid})
    rows = ["## Language identification", "",
            "`../shared/data/lid` (lingua-py's test sets: real text, a test set never trained or tuned on). "
            "Each line is the first message of a new user with no stored choice and no Telegram hint. "
            "Accuracy %, per category:", "",
            "| detector | " + " | ".join(CATEGORIES) + " |", "|---|" + "---|" * len(CATEGORIES)]
    detectors = list(dict.fromkeys(s.detector for s in report.lid))
    for detector in detectors:
        cells = []
        for category in CATEGORIES:
            done = [s for s in report.lid if s.detector == detector and s.category == category]
            cells.append(f"{100 * sum(s.correct for s in done) / max(1, sum(s.total for s in done)):.1f}")
        rows.append(f"| {detector} | " + " | ".join(cells) + " |")
    rows += ["", "Per language (single words / word pairs / sentences):", "",
             "| detector | " + " | ".join(languages) + " |", "|---|" + "---|" * len(languages)]
    for detector in detectors:
        cells = []
        for language in languages:
            parts = [next((f"{100 * s.accuracy:.0f}" for s in report.lid if s.detector == detector
                           and s.category == c and s.language == language), "-") for c in CATEGORIES]
            cells.append(" / ".join(parts))
        rows.append(f"| {detector} | " + " | ".join(cells) + " |")
    return [*rows, ""]


def _understanding(report: Report, out: Path, topics: list[str]) -> list[str]:
    rows = ["## Understanding", "",
            "Intent accuracy on the held-out split (`tests/nlu_heldout/`, never trained on):", "",
            "| language | accuracy | examples |", "|---|---|---|"]
    pictures = []
    for result in report.understanding:
        rows.append(f"| {result.language} | {100 * result.accuracy:.1f}% | {result.total} |")
        picture = f"confusion-{result.language}.png"
        plot_confusion(result, topics, out / picture)
        pictures.append(f"![confusion matrix, {result.language}]({picture})")
    return [*rows, "", *pictures, ""]


def _cost(report: Report) -> list[str]:
    training = f"{report.training_seconds:.0f} s" if report.training_seconds else "not measured (smoke)"
    return ["## Cost", "", "| what | measured |", "|---|---|",
            f"| bot resident memory after the load | {report.bot_rss_mb:.0f} MB |",
            f"| engine resident memory after the load | {report.engine_rss_mb:.0f} MB |",
            f"| engine cold start (process start to model loaded) | {report.cold_start_seconds:.1f} s |",
            f"| training time (from scratch) | {training} |",
            f"| model size | {report.model_mb:.1f} MB |", ""]


def _plot_latency(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for target, colour in (("bot", "tab:blue"), ("engine", "tab:orange")):
        steps = [s for s in report.steps if s.target == target]
        rates = [s.rate for s in steps]
        ax.plot(rates, [s.p50 for s in steps], "o--", color=colour, label=f"{target} p50")
        ax.plot(rates, [s.p95 for s in steps], "o-", color=colour, label=f"{target} p95")
    ax.axhline(100, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("offered load (messages per second)")
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("Latency vs offered load")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _yes(value: bool) -> str:
    return "yes" if value else "**no**"
