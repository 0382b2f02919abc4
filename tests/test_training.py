"""Retraining for editors: an estimate first, progress from Rasa's log, a loud report when understanding drops."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from bench.heldout import LanguageScore
from bench.regression import DROPPED, Accepted, check_heldout, find_drops, judge, load_baseline, write_baseline
from bot.__main__ import main as bot_main
from bot.engine.process import ensure_trained, model_path, sources_hash
from bot.engine.training import (
    HISTORY_FILE,
    REFERENCE_MARKS,
    REFERENCE_SECONDS,
    MilestoneParser,
    Progress,
    TrainingRun,
    append_history,
    count_examples,
    estimate_seconds,
    headline,
    last_comparable,
    load_history,
    milestone_fractions,
    train_with_progress,
)
from bot.errors import EngineUnavailable
from bot.settings import ROOT, Settings

DATA = Path(__file__).parent / "data"
FULL_LOG = DATA / "rasa-train-full.log"  # the 13,300-example training, 704 s on 2 cores
CACHED_LOG = DATA / "rasa-train-cached.log"  # a small project retrained with every component in Rasa's cache
TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) INFO")


def log_lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8").splitlines(keepends=True)


def replay(progress: Progress, path: Path, started: str) -> None:
    """Feed a captured log to `progress` at the moments its timestamps say."""
    origin, elapsed = datetime.fromisoformat(started), 0.0
    for line in log_lines(path):
        if match := TIMESTAMP.search(line):
            elapsed = (datetime.fromisoformat(match.group(1)) - origin).total_seconds()
        progress.feed(line, elapsed)


def run(seconds: float, examples: int = 13_300, restored: list[str] | None = None, **marks: float) -> TrainingRun:
    return TrainingRun("2026-11-21T12:10:31+00:00", seconds, examples, ["ar", "en", "fa", "fr", "so", "ur"],
                       dict(marks), restored or [])


def test_the_milestones_of_a_real_training_are_recognised_in_order() -> None:
    parser = MilestoneParser()
    keys = [m.key for line in log_lines(FULL_LOG) if (m := parser.parse(line))]
    assert keys == ["validate", "start:CountVectorsFeaturizer", "done:CountVectorsFeaturizer",
                    "start:CountVectorsFeaturizer#2", "done:CountVectorsFeaturizer#2",
                    "start:LogisticRegressionClassifier", "done:LogisticRegressionClassifier",
                    "cached:RulePolicy", "saved"]


def test_progress_without_a_terminal_is_one_line_per_stage_with_time_left() -> None:
    out = io.StringIO()
    progress = Progress(out, 700.0, milestone_fractions([]), tty=False)
    replay(progress, FULL_LOG, "2026-11-21 11:58:47")
    lines = out.getvalue().splitlines()
    assert len(lines) == 9
    assert lines[5] == "[ 21%] Training LogisticRegressionClassifier | 2 min 31 s elapsed, about 9 minutes left"
    assert lines[-1].startswith("[ 99%] Saving the model | 11 min 44 s elapsed, almost done")
    percents = [int(line[1:4]) for line in lines]
    assert percents == sorted(percents)


def test_the_estimate_follows_the_pace_of_the_day_when_a_milestone_comes_late() -> None:
    out = io.StringIO()
    progress = Progress(out, 704.0, milestone_fractions([]), tty=False)
    progress.feed("2026-11-21 12:01:18 INFO rasa.engine.training.hooks - Starting to train component "
                  "'LogisticRegressionClassifier'.", 302.0)  # twice as slow as the reference
    assert progress.expected == pytest.approx(302.0 / (151.0 / 704.0))
    assert "about 18 minutes left" in out.getvalue()


def test_on_a_terminal_the_line_is_redrawn_in_place_and_the_clock_moves_between_milestones() -> None:
    out = io.StringIO()
    progress = Progress(out, 704.0, milestone_fractions([]), tty=True)
    progress.feed("... Starting to train component 'LogisticRegressionClassifier'.", 151.0)
    progress.tick(427.5)
    progress.finish("[100%] Model trained in 11 min 44 s: 12e1d5e859cb5368.tar.gz")
    frames = out.getvalue().split("\r")[1:]
    assert frames[1] == "[ 61%] Training LogisticRegressionClassifier | 7 min 8 s elapsed, about 5 minutes left\x1b[K"
    assert frames[-1].endswith("\x1b[K\n") and "\n" not in "".join(frames[:-1])


def test_a_long_silent_stage_still_writes_a_line_a_minute_without_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(out, 704.0, milestone_fractions([]), tty=False)
    progress.feed("... Starting to train component 'LogisticRegressionClassifier'.", 151.0)
    progress.tick(180.0)
    progress.tick(212.0)
    progress.tick(800.0)
    assert out.getvalue().splitlines()[1:] == [
        "[ 30%] Training LogisticRegressionClassifier | 3 min 32 s elapsed, about 8 minutes left",
        "[ 99%] Training LogisticRegressionClassifier | 13 min 20 s elapsed, taking longer than estimated"]


def test_components_restored_from_the_cache_are_recorded_and_skip_ahead() -> None:
    out = io.StringIO()
    progress = Progress(out, 20.0, milestone_fractions([]), tty=False)
    replay(progress, CACHED_LOG, "2026-11-21 13:01:59")
    assert progress.restored == ["CountVectorsFeaturizer", "CountVectorsFeaturizer", "LogisticRegressionClassifier",
                                 "RulePolicy"]
    assert "[ 99%] Reused LogisticRegressionClassifier from the cache" in out.getvalue()
    assert not run(7.2, 96, progress.restored).comparable  # says nothing of how long a training takes


def test_without_history_the_estimate_is_the_measured_pace_per_example() -> None:
    assert estimate_seconds([], 13_300) == pytest.approx(704, rel=0.01)
    assert headline(13_319, ["ar", "en", "fa", "fr", "so", "ur"], 706.0, None) == (
        "Training on 13,319 examples in 6 languages; about 12 minutes "
        "(no training on this machine yet to compare with).")


def test_the_estimate_scales_the_last_trainings_by_the_number_of_examples() -> None:
    history = [run(704.0), run(38.0, restored=["CountVectorsFeaturizer", "LogisticRegressionClassifier"])]
    estimate = estimate_seconds(history, 13_412)
    assert estimate == pytest.approx(15 + (704 - 15) * 13_412 / 13_300)
    assert headline(13_412, history[0].languages, estimate, last_comparable(history)) == (
        "Training on 13,412 examples in 6 languages; about 12 minutes (last time 11 min 44 s).")
    slow = [run(704.0), run(1400.0), run(1410.0)]  # the median of the recent paces, not one odd run
    assert estimate_seconds(slow, 13_300) == pytest.approx(1400, rel=0.001)


def test_the_progress_landmarks_come_from_the_last_full_training() -> None:
    assert milestone_fractions([])["start:LogisticRegressionClassifier"] == pytest.approx(151 / REFERENCE_SECONDS)
    history = [run(800.0, **{"start:LogisticRegressionClassifier": 200.0}), run(40.0, restored=["X"], saved=39.0)]
    assert milestone_fractions(history) == {"start:LogisticRegressionClassifier": 0.25}
    assert set(REFERENCE_MARKS) <= set(milestone_fractions([]))


def test_the_history_keeps_the_last_twenty_trainings(tmp_path: Path) -> None:
    path = tmp_path / HISTORY_FILE
    for seconds in range(1, 26):
        append_history(path, run(float(seconds)))
    history = load_history(path)
    assert [r.seconds for r in history] == [float(s) for s in range(6, 26)]
    path.write_text("{not json")
    assert load_history(path) == []


def test_examples_are_counted_per_language_folder(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hi\n    - hello\n")
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "x.py").write_text("- not yaml\n")
    assert count_examples(tmp_path) == (2, ["en"])
    examples, languages = count_examples(ROOT / "nlu")
    assert examples > 13_000 and {"ar", "en", "fa", "fr", "so", "ur"} <= set(languages)


def fake_rasa(lines_from: Path, *, create: Path | None, code: int) -> list[str]:
    """A command that writes a captured Rasa log as it goes, then maybe the model, then exits with `code`."""
    script = (f"import sys, pathlib\nfor line in pathlib.Path({str(lines_from)!r}).read_bytes().splitlines(True):\n"
              "    sys.stdout.buffer.write(line); sys.stdout.flush()\n"
              + (f"pathlib.Path({str(create)!r}).write_bytes(b'model')\n" if create else "")
              + f"sys.exit({code})\n")
    return [sys.executable, "-c", script]


def test_a_training_copies_rasa_output_to_the_log_and_joins_the_history(settings: Settings, tmp_path: Path) -> None:
    target, log, out = tmp_path / "model.tar.gz", tmp_path / "train.log", io.StringIO()
    recorded = train_with_progress(settings, fake_rasa(FULL_LOG, create=target, code=0), dict(os.environ), log,
                                   target, stream=out)
    assert log.read_bytes() == FULL_LOG.read_bytes()
    text = out.getvalue()
    assert text.startswith("Training on ") and f"Rasa's full log: {log}" in text
    assert "Training LogisticRegressionClassifier" in text
    assert text.splitlines()[-1].startswith("[100%] Model trained in ") and text.endswith(": model.tar.gz\n")
    assert load_history(settings.state_dir / HISTORY_FILE) == [recorded]
    assert recorded.examples > 13_000 and "start:LogisticRegressionClassifier" in recorded.marks


def test_a_failed_training_shows_the_end_of_the_log_and_where_it_is(settings: Settings, tmp_path: Path) -> None:
    target, log, out = tmp_path / "model.tar.gz", tmp_path / "train.log", io.StringIO()
    with pytest.raises(EngineUnavailable, match="exit code 3"):
        train_with_progress(settings, fake_rasa(CACHED_LOG, create=None, code=3), dict(os.environ), log, target,
                            stream=out)
    text = out.getvalue()
    assert "Training FAILED (exit code 3)" in text
    assert "    2026-11-21 13:02:05 INFO     rasa.engine.training.hooks  - Restored component 'RulePolicy'" in text
    assert "\x1b" not in text.split("Training FAILED")[1]  # no colour codes in the excerpt
    assert text.rstrip().endswith(f"The full log: {log}")
    assert load_history(settings.state_dir / HISTORY_FILE) == []


# --- held-out accuracy against the baseline ---------------------------------------------------------

NAMES = {"ar": "Arabic", "en": "English"}


def scored(language: str, accuracy: float, **f1: float) -> LanguageScore:
    return LanguageScore(language, 252, accuracy, [], [], dict(f1))


@pytest.fixture
def baseline_file(tmp_path: Path) -> Path:
    path = tmp_path / "heldout-baseline.json"
    write_baseline(path, [scored("ar", 0.683, rights_work=0.31, rights_health=0.44, greet=0.92),
                          scored("en", 0.877, greet=0.6)], "before")
    return path


def test_a_drop_of_more_than_a_point_is_reported_loudly_and_fails(baseline_file: Path) -> None:
    before = baseline_file.read_text()
    out = io.StringIO()
    code = judge([scored("ar", 0.647, rights_work=0.10, rights_health=0.40, greet=0.95), scored("en", 0.881)],
                 baseline_file, "after", names=NAMES, stream=out)
    text = out.getvalue()
    assert code == DROPPED != 0
    assert "╔" in text and "UNDERSTANDING GOT WORSE" in text
    assert "Arabic (ar): 68.3% → 64.7% (-3.6 points)" in text
    assert "topics whose F1 fell most: rights_work 0.31 → 0.10, rights_health 0.44 → 0.40" in text
    assert "git diff nlu/ar" in text and "make accuracy" in text and "model is kept" in text
    assert "English (en)" not in text.split("╔")[1]
    assert baseline_file.read_text() == before


def test_a_drop_of_one_point_or_less_is_stable() -> None:
    baseline = {"ar": Accepted(0.683, 252, {})}
    assert find_drops(baseline, [scored("ar", 0.673)]) == []
    assert [d.language for d in find_drops(baseline, [scored("ar", 0.6729)])] == ["ar"]


def test_an_improvement_prints_a_table_and_becomes_the_baseline(baseline_file: Path) -> None:
    out = io.StringIO()
    code = judge([scored("ar", 0.71, rights_work=0.5), scored("en", 0.877), scored("so", 0.91)], baseline_file,
                 "after", names=NAMES, stream=out)
    assert code == 0
    assert "  ar Arabic        68.3%   71.0%     +2.7\n" in out.getvalue()
    assert "  so                 new   91.0%\n" in out.getvalue()
    saved = json.loads(baseline_file.read_text())
    assert saved["model"] == "after"
    assert saved["languages"]["ar"] == {"accuracy": 0.71, "examples": 252, "f1": {"rights_work": 0.5}}
    assert set(saved["languages"]) == {"ar", "en", "so"}


def test_small_drops_within_the_tolerance_do_not_lower_the_baseline(baseline_file: Path) -> None:
    for accuracy in (0.675, 0.668, 0.661):  # each within a point of the last, 2.2 points in all
        code = judge([scored("ar", accuracy)], baseline_file, "after", names=NAMES, stream=io.StringIO())
        if accuracy > 0.673:
            assert code == 0
    assert code == DROPPED
    assert load_baseline(baseline_file)["ar"].accuracy == 0.683


def test_an_accepted_drop_becomes_the_baseline(baseline_file: Path) -> None:
    assert judge([scored("ar", 0.60)], baseline_file, "after", names=NAMES, stream=io.StringIO(), accept=True) == 0
    assert load_baseline(baseline_file)["ar"].accuracy == 0.60


def test_the_committed_baseline_has_every_held_out_language() -> None:
    baseline = load_baseline(ROOT / "bench" / "heldout-baseline.json")
    assert {path.stem for path in (ROOT / "tests" / "nlu_heldout").glob("*.yml")} <= set(baseline)


# --- the command --------------------------------------------------------------------------------------

def tiny_project(root: Path) -> Path:
    """A project of 2 languages x 3 topics x 16 examples that Rasa trains in about 16 s."""
    for name in ("config.yml", "requirements/engine.lock", "nlu/__init__.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, root / name)
    for name in ("flows/domain", "flows/rules", "nlu/components"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    for language in ("en", "fr"):
        blocks = yaml.safe_load((ROOT / "nlu" / language / "conversation.yml").read_text(encoding="utf-8"))["nlu"]
        lines = ['version: "3.1"', "nlu:"]
        for block in blocks[:3]:
            lines += [f"- intent: {block['intent']}", "  examples: |"]
            lines += [f"    {example}" for example in block["examples"].splitlines()[:16]]
        (root / "nlu" / language).mkdir()
        (root / "nlu" / language / "conversation.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / ".venv-rasa").symlink_to(ROOT / ".venv-rasa")
    return root


@pytest.fixture
def tiny_settings(tmp_path: Path) -> Callable[[], Settings]:
    root = tiny_project(tmp_path / "project")
    env = {"ASSISTANT_ROOT": str(root), "STATE_DIR": str(tmp_path / "state"), "MODEL_DIR": str(tmp_path / "models"),
           "ENGINE_TOKEN": "test", "PSEUDONYM_KEY": "test"}
    return lambda: Settings.from_env(env)


def test_evaluate_says_the_model_is_current_and_skips(tiny_settings: Callable[[], Settings],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    settings = tiny_settings()
    settings.model_dir.mkdir()
    (settings.model_dir / f"{sources_hash(settings.root)}.tar.gz").write_bytes(b"model")
    monkeypatch.setenv("ASSISTANT_ROOT", str(settings.root))
    monkeypatch.setenv("STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("MODEL_DIR", str(settings.model_dir))
    assert bot_main(["train", "--evaluate"]) == 0
    captured = capsys.readouterr()
    assert "The model is current" in captured.err and "evaluation skipped" in captured.err
    assert "Training on" not in captured.err


@pytest.mark.engine
def test_a_real_training_shows_progress_and_is_recorded(tiny_settings: Callable[[], Settings],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    settings = tiny_settings()
    path = ensure_trained(settings)
    assert path == model_path(settings) and path.exists()
    err = capsys.readouterr().err
    assert "Training on 96 examples in 2 languages; less than a minute" in err
    assert "Training LogisticRegressionClassifier |" in err and "[100%] Model trained in " in err
    (recorded,) = load_history(settings.state_dir / HISTORY_FILE)
    assert recorded.examples == 96 and recorded.languages == ["en", "fr"] and recorded.comparable
    assert recorded.marks["start:LogisticRegressionClassifier"] < recorded.marks["done:LogisticRegressionClassifier"]
    assert "Your Rasa model is trained and saved" in (settings.state_dir / "logs" / "train.log").read_text()
    assert ensure_trained(settings) == path  # current now: not trained again
    assert len(load_history(settings.state_dir / HISTORY_FILE)) == 1

    # Rasa's own evaluation of it on held-out questions, one of them labelled wrong on purpose: a loud drop.
    heldout = yaml.safe_load((ROOT / "tests" / "nlu_heldout" / "en.yml").read_text(encoding="utf-8"))["nlu"]
    blocks = [b for b in heldout if b["intent"] in {"greet", "goodbye", "thanks"}]
    blocks[0]["examples"] += "- thank you so much for your help\n"
    (settings.root / "tests" / "nlu_heldout").mkdir(parents=True)
    (settings.root / "tests" / "nlu_heldout" / "en.yml").write_text(
        yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True), encoding="utf-8")
    (settings.root / "bench").mkdir()
    write_baseline(settings.root / "bench" / "heldout-baseline.json", [scored("en", 1.0, greet=1.0)], "before")
    out = io.StringIO()
    assert check_heldout(settings, path, stream=out) == DROPPED
    assert "Checking understanding on held-out questions in 1 language (" in out.getvalue()
    assert "en (en): 100.0% → " in out.getvalue() and "greet 1.00 → " in out.getvalue()
    assert load_baseline(settings.root / "bench" / "heldout-baseline.json")["en"].accuracy == 1.0
