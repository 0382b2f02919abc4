"""The simulated traffic: what a few hundred users of mixed languages send, as Telegram updates."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.callbacks import ButtonAction, encode


@dataclass(frozen=True)
class Action:
    """One thing a user does: write text, press a button, or send a command."""

    kind: str  # "text" | "button" | "command"
    value: str

    def engine_message(self) -> str:
        """What the same action is for the engine alone (REST channel): text, or the topic's intent."""
        if self.kind == "button" and self.value.startswith("t:"):
            return "/" + self.value[2:]
        if self.kind == "text":
            return self.value
        return "menu"


def workload(root: Path, size: int = 2000, seed: int = 7) -> list[Action]:
    """A realistic mix: 70% text (short and long, six languages), 25% buttons, 5% commands.

    Text comes from the training examples (what people ask) and from the danger-phrase files'
    informational questions (fr, fa, ur, so), never from the held-out split.
    """
    rng = random.Random(seed)
    texts: list[str] = []
    for path in sorted((root / "nlu").glob("*/*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            if item["intent"] != "emergency":
                texts += [line.strip()[2:] for line in item["examples"].splitlines() if line.strip()]
    for code in ("fr", "fa", "ur", "so"):
        data = yaml.safe_load((root / "knowledge_base" / "emergency" / f"{code}.yml").read_text(encoding="utf-8"))
        texts += [str(t) for t in data["tests"]["no_match"]]
    long_texts = [t for t in texts if len(t) > 60]
    topics = yaml.safe_load((root / "knowledge_base" / "topics.yml").read_text(encoding="utf-8"))
    buttons = [encode(ButtonAction("topic", t)) for t, spec in topics.items() if spec["area"] != "conversation"]
    buttons += [encode(ButtonAction("area", a)) for a in ("rights", "asylum", "services")] + ["m"]
    actions = []
    for _ in range(size):
        draw = rng.random()
        if draw < 0.55:
            actions.append(Action("text", rng.choice(texts)))
        elif draw < 0.70:
            actions.append(Action("text", rng.choice(long_texts)))
        elif draw < 0.95:
            actions.append(Action("button", rng.choice(buttons)))
        else:
            actions.append(Action("command", rng.choice(["/menu", "/help", "/start"])))
    return actions
