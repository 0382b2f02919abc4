"""The console chat and the classify command, run as a user would run them."""

import json
import os
import subprocess
import sys

import pytest

from bot.settings import ROOT

pytestmark = pytest.mark.engine


def run_bot(args: list[str], stdin: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=300, check=False)


@pytest.fixture
def env(engine_url: str, engine_env: dict[str, str], tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**engine_env, "STATE_DIR": str(tmp_path / "state"), "LANG": "C.UTF-8"}


def test_the_console_answers_in_the_users_language_and_numbers_choose_buttons(env: dict[str, str]) -> None:
    result = run_bot(["console"], "كيف أقدم طلب لجوء؟\nI was arrested, what are my rights?\n/language\n3\n/quit\n", env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1) Rights" in out  # the welcome's main menu
    assert "المفوضية" in out or "لجوء" in out
    assert "Last reviewed" in out
    assert "2) العربية" in out and "3) Français" in out
    assert "À partir de maintenant" in out  # choice 3 = French


def test_classify_writes_one_json_line_per_input(env: dict[str, str]) -> None:
    lines = [{"text": "كيف أقدم طلب لجوء؟"}, {"text": "I was arrested, what are my rights?"},
             {"text": "they are beating me help"}]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"
    result = run_bot(["classify"], stdin, env)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["language"], o["topic"]) for o in out] == [
        ("ar", "asylum_registration"), ("en", "rights_detention"), ("en", "emergency")]
    assert all(set(o) == {"text", "language", "topic", "confidence"} for o in out)
    assert all(0.0 <= o["confidence"] <= 1.0 for o in out)
