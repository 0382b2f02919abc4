"""The guided flows defined in flows/guided/*.yml: their steps, questions and outcomes.

A flow file says how a flow is shaped (which step follows which, which option leads where, which
topics an outcome offers); its texts live in knowledge_base/<lang>/flows.yml under the flow's id,
so editors translate them like answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ContentError


@dataclass(frozen=True)
class Step:
    id: str
    topic: str


@dataclass(frozen=True)
class StepsFlow:
    """A fixed sequence of short steps with Back / Next."""

    id: str
    entry: str  # the area whose menu offers it
    offered_under: tuple[str, ...]
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Node:
    """A question (options: option id -> next node) or an outcome (topics offered under it)."""

    id: str
    options: tuple[tuple[str, str], ...] = ()
    topics: tuple[str, ...] = ()

    @property
    def is_question(self) -> bool:
        return bool(self.options)


@dataclass(frozen=True)
class Walkthrough:
    """A few questions that lead to the answer that matters most now."""

    id: str
    entry: str
    offered_under: tuple[str, ...]
    start: str
    nodes: dict[str, Node]


@dataclass(frozen=True)
class Finder:
    """The service finder: categories, each mapped to the topic that explains it."""

    id: str
    entry: str
    page_size: int
    categories: dict[str, str]  # category -> topic


@dataclass(frozen=True)
class Flows:
    steps: dict[str, StepsFlow]
    walkthroughs: dict[str, Walkthrough]
    finder: Finder

    def offered_under(self, topic: str) -> list[StepsFlow | Walkthrough]:
        """The flows whose start button belongs under the answer of `topic`."""
        flows: list[StepsFlow | Walkthrough] = [*self.steps.values(), *self.walkthroughs.values()]
        return [flow for flow in flows if topic in flow.offered_under]

    def in_area(self, area: str) -> list[StepsFlow | Walkthrough]:
        flows: list[StepsFlow | Walkthrough] = [*self.steps.values(), *self.walkthroughs.values()]
        return [flow for flow in flows if flow.entry == area]

    def text_keys(self) -> list[str]:
        """Every text key the flows need in knowledge_base/<lang>/flows.yml."""
        keys = []
        for steps in self.steps.values():
            keys.append(f"{steps.id}.title")
            for step in steps.steps:
                keys += [f"{steps.id}.{step.id}.title", f"{steps.id}.{step.id}.text"]
        for walk in self.walkthroughs.values():
            keys.append(f"{walk.id}.title")
            for node in walk.nodes.values():
                keys.append(f"{walk.id}.{node.id}.text")
                keys += [f"{walk.id}.{node.id}.{option}" for option, _ in node.options]
        return keys


def load_flows(folder: Path, topics: set[str] | frozenset[str]) -> Flows:
    """Read flows/guided/*.yml; raise ContentError naming the file and what is wrong."""
    steps: dict[str, StepsFlow] = {}
    walkthroughs: dict[str, Walkthrough] = {}
    finder: Finder | None = None
    for path in sorted(folder.glob("*.yml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            kind = raw["kind"]
            flow_id = str(raw["flow"])
            offered = tuple(str(t) for t in raw.get("offered_under") or ())
            if kind == "steps":
                steps[flow_id] = StepsFlow(flow_id, str(raw["entry"]), offered,
                                           tuple(Step(str(s["id"]), str(s["topic"])) for s in raw["steps"]))
            elif kind == "walkthrough":
                walkthroughs[flow_id] = _walkthrough(flow_id, raw, offered)
            elif kind == "finder":
                finder = Finder(flow_id, str(raw["entry"]), int(raw.get("page_size", 3)),
                                {str(k): str(v) for k, v in raw["categories"].items()})
            else:
                raise ContentError(f"{path}: kind must be steps, walkthrough or finder, not {kind!r}")
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise ContentError(f"{path}: not a valid flow ({type(exc).__name__}: {exc})") from exc
        _check_topics(path, raw, topics)
    if finder is None:
        raise ContentError(f"{folder}: no flow of kind finder")
    for walk in walkthroughs.values():
        for node in walk.nodes.values():
            for option, target in node.options:
                if target not in walk.nodes:
                    raise ContentError(f"{folder / walk.id}.yml: option {option!r} of {node.id!r} leads to "
                                       f"{target!r}, which is not a node")
    return Flows(steps, walkthroughs, finder)


def _walkthrough(flow_id: str, raw: dict[str, Any], offered: tuple[str, ...]) -> Walkthrough:
    nodes = {}
    for node_id, spec in raw["nodes"].items():
        spec = spec or {}
        nodes[str(node_id)] = Node(
            str(node_id),
            tuple((str(option), str(target)) for option, target in (spec.get("options") or {}).items()),
            tuple(str(t) for t in spec.get("topics") or ()),
        )
    if raw["start"] not in nodes:
        raise ValueError(f"start node {raw['start']!r} is not a node")
    return Walkthrough(flow_id, str(raw["entry"]), offered, str(raw["start"]), nodes)


def _check_topics(path: Path, raw: dict[str, Any], topics: set[str] | frozenset[str]) -> None:
    named = list(raw.get("offered_under") or ())
    named += [s["topic"] for s in raw.get("steps") or ()]
    named += [t for spec in (raw.get("nodes") or {}).values() for t in (spec or {}).get("topics") or ()]
    named += list((raw.get("categories") or {}).values())
    unknown = sorted({str(t) for t in named} - set(topics))
    if unknown:
        raise ContentError(f"{path}: topics {unknown} are not in knowledge_base/topics.yml")
