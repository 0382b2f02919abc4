"""Button data: what each inline button means, encoded in at most 64 bytes, validated on the way back.

Anyone can send any callback data to a bot, so decoding trusts nothing: unknown or malformed
data decodes to None and the user is shown the menu again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.telegram_limits import CALLBACK_DATA_LIMIT

ButtonKind = Literal["topic", "area", "menu", "languages", "language", "human", "forget", "handoff",
                     "steps", "walk", "finder"]
AREAS_WITH_MENUS = ("rights", "asylum", "services")
# Handoff buttons (take a case, rate, report, profile toggles...). Their shape is checked here;
# whether the presser may do it is checked against the database by the handoff desk.
_HANDOFF = re.compile(
    r"(take|report|allow|reject):\d{1,12}|rate:\d{1,12}:[1-5]|leave|canned:[a-z_]{1,16}"
    r"|vlang:[a-z]{2,3}|vskill:[a-z_]{1,16}|vmax:\d"
)
# Ids in handoff buttons are database keys: PostgreSQL refuses a query with one beyond its INTEGER.
MAX_ID = 2**31 - 1
# Guided flows. Whether the flow, node, category or city exists is checked where they are used.
_STEPS = re.compile(r"[a-z_]{1,24}:\d{1,2}")
_WALK = re.compile(r"[a-z_]{1,24}:[a-z_]{1,24}")
# Finder: "" (categories), "<category>" (ask where), "<category>:<place>:<page>", ":<place>" (categories
# at a place). A place is a city ("c.istanbul") or a shared location rounded to ~1 km ("@41.01,28.98").
PLACE = r"c\.[a-z0-9_-]{1,24}|@-?\d{1,2}\.\d{1,2},-?\d{1,3}\.\d{1,2}"
_FINDER = re.compile(rf"[a-z_]{{1,16}}|[a-z_]{{1,16}}:(?:{PLACE}):\d{{1,2}}|:(?:{PLACE})")


@dataclass(frozen=True)
class ButtonAction:
    """A decoded button press."""

    kind: ButtonKind
    value: str = ""


def encode(action: ButtonAction) -> str:
    prefix = {
        "topic": "t", "area": "a", "menu": "m", "languages": "l", "language": "l",
        "human": "h", "forget": "f", "handoff": "o", "steps": "s", "walk": "w", "finder": "g",
    }[action.kind]
    return f"{prefix}:{action.value}" if action.value else prefix


def decode(data: str | None, *, topics: set[str] | frozenset[str], languages: tuple[str, ...]) -> ButtonAction | None:
    """The action behind `data`, or None when it is not one this bot could have sent."""
    # Forged data may hold lone surrogates: measure bytes without failing on them.
    if not data or len(data.encode("utf-8", "surrogatepass")) > CALLBACK_DATA_LIMIT:
        return None
    prefix, _, value = data.partition(":")
    if prefix == "t" and value in topics:
        return ButtonAction("topic", value)
    if prefix == "a" and value in AREAS_WITH_MENUS:
        return ButtonAction("area", value)
    if prefix == "l" and not value:
        return ButtonAction("languages")
    if prefix == "l" and value in languages:
        return ButtonAction("language", value)
    if prefix == "f" and value in {"yes", "no"}:
        return ButtonAction("forget", value)
    if prefix == "o" and _HANDOFF.fullmatch(value) and all(int(n) <= MAX_ID for n in re.findall(r"\d+", value)):
        return ButtonAction("handoff", value)
    if prefix == "s" and _STEPS.fullmatch(value):
        return ButtonAction("steps", value)
    if prefix == "w" and _WALK.fullmatch(value):
        return ButtonAction("walk", value)
    if prefix == "g" and (not value or _FINDER.fullmatch(value)):
        return ButtonAction("finder", value)
    if data == "m":
        return ButtonAction("menu")
    if data == "h":
        return ButtonAction("human")
    return None
