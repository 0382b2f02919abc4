"""Intent accuracy per language on the held-out split, and a confusion matrix picture per language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.engine.client import EngineClient


@dataclass
class Understanding:
    language: str
    total: int = 0
    correct: int = 0
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (expected, predicted)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


async def run(root: Path, engine: EngineClient, per_intent: int | None,
              progress: Callable[[str], None]) -> list[Understanding]:
    results = []
    for path in sorted((root / "tests" / "nlu_heldout").glob("*.yml")):
        result = Understanding(path.stem)
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            examples = [line.strip()[2:] for line in item["examples"].splitlines() if line.strip()]
            for text in examples[:per_intent]:
                predicted, _ = (await engine.parse(text)).best_topic()
                result.total += 1
                result.correct += predicted == item["intent"]
                result.pairs.append((item["intent"], predicted))
        progress(f"[understanding] {result.language}: {100 * result.accuracy:.1f}% of {result.total}")
        results.append(result)
    return results


def plot_confusion(result: Understanding, topics: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    index = {topic: i for i, topic in enumerate(topics)}
    matrix = np.zeros((len(topics), len(topics)))
    for expected, predicted in result.pairs:
        if expected in index and predicted in index:
            matrix[index[expected], index[predicted]] += 1
    rows = matrix.sum(axis=1, keepdims=True)
    matrix = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    fig, ax = plt.subplots(figsize=(11, 10))
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(topics)), topics, rotation=90, fontsize=7)
    ax.set_yticks(range(len(topics)), topics, fontsize=7)
    ax.set_xlabel("predicted topic")
    ax.set_ylabel("expected topic")
    ax.set_title(f"Held-out confusion, {result.language}: {100 * result.accuracy:.1f}% of {result.total}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
