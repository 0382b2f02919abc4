"""Review before publishing: who approved an answer, when, and whether it changed since.

An entry's `review:` line in its YAML file is either `draft` or a record written by
`python -m bot approve` (`make approve`):

    review: {status: reviewed, by: "Amina", date: 2026-11-21, checksum: 3f9a1c2e0b7d, edited_by: "Karim"}

The checksum covers what users read (title, answer, sources). When an editor changes any of it,
the checksum no longer matches and the entry is a draft again ("changed") until a second person
approves it: the approver must not be the one named in `edited_by`, which an editor fills in when
changing a reviewed answer. A `reviewed` written by hand, without a checksum, counts as a draft.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.errors import ContentError

Status = Literal["draft", "reviewed", "changed"]
STATUSES: tuple[Status, ...] = ("draft", "reviewed", "changed")


@dataclass(frozen=True)
class Review:
    """The review state of one entry or file, as its YAML says and as its text checks out."""

    status: Status = "draft"
    by: str | None = None  # who approved it last
    on: dt.date | None = None
    edited_by: str | None = None  # who changed it last, if they said so
    by_hand: bool = False  # written `reviewed` without going through `make approve`

    @property
    def reviewed(self) -> bool:
        return self.status == "reviewed"

    def describe(self) -> str:
        """One plain line for reports: 'reviewed by Amina on 2026-11-21', 'changed since ...'."""
        when = f" on {self.on.isoformat()}" if self.on else ""
        match self.status:
            case "reviewed":
                return f"reviewed by {self.by}{when}"
            case "changed":
                editor = f" by {self.edited_by}" if self.edited_by else ""
                return f"changed{editor} since {self.by} reviewed it{when}; needs a second person's approval"
        return "marked reviewed by hand; approve it with `make approve`" if self.by_hand else "draft"


def checksum(*parts: Any) -> str:
    """A short fingerprint of what users read; any change to it changes the fingerprint."""
    canonical = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def parse_review(raw: Any, current: str, where: str) -> Review:
    """The `review:` value of an entry whose content has fingerprint `current`."""
    if raw is None or raw == "draft":
        return Review()
    if raw == "reviewed":
        return Review(by_hand=True)
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: review must be `draft` or written by `make approve` (found {raw!r})")
    status = raw.get("status", "draft")
    if status not in ("draft", "reviewed"):
        raise ContentError(f"{where}: review status must be draft or reviewed (found {status!r})")
    on = raw.get("date")  # not "on": YAML reads a bare `on` as true
    if on is not None and not isinstance(on, dt.date):
        try:
            on = dt.date.fromisoformat(str(on))
        except ValueError:
            raise ContentError(f"{where}: the review date must look like 2026-11-21 (found {on!r})") from None
    by = str(raw["by"]) if raw.get("by") else None
    edited_by = str(raw["edited_by"]) if raw.get("edited_by") else None
    if status == "draft":
        return Review("draft", by, on, edited_by)
    if not by or not raw.get("checksum"):
        return Review("draft", by, on, edited_by, by_hand=True)
    return Review("reviewed" if str(raw["checksum"]) == current else "changed", by, on, edited_by)


# --- Approving: rewriting the `review:` line of one entry -------------------------------------


class ApprovalRefused(ContentError):
    """The approval breaks the two-person rule or names nothing that exists."""


def approve_in_file(path: Path, key: str | None, fingerprint: str, review: Review, approver: str,
                    today: dt.date) -> None:
    """Write an approval for the top-level `key` of `path` (None: the file's own `review:` line)."""
    approver = approver.strip()
    if not approver:
        raise ApprovalRefused("say who approves: BY=\"Your Name\"")
    if review.edited_by and review.edited_by.casefold() == approver.casefold():
        raise ApprovalRefused(f"{review.edited_by} made the last change, so a second person must approve it")
    if review.status == "changed" and not review.edited_by:
        raise ApprovalRefused("it changed since it was reviewed, but nobody wrote who changed it: add "
                              "`edited_by: \"Name\"` to its review line, then a second person approves it")
    record = {"status": "reviewed", "by": approver, "date": today.isoformat(), "checksum": fingerprint}
    if review.edited_by:
        record["edited_by"] = review.edited_by
    line = "review: {" + ", ".join(f"{name}: {_scalar(value)}" for name, value in record.items()) + "}"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start, end, indent = _block(lines, key, path)
    replaced = _replace_review(lines, start, end, indent, line)
    path.write_text("".join(replaced), encoding="utf-8")


def _scalar(value: str) -> str:
    return value if re.fullmatch(r"[0-9a-f]{12}|\d{4}-\d{2}-\d{2}|reviewed", value) else json.dumps(
        value, ensure_ascii=False)


def _block(lines: list[str], key: str | None, path: Path) -> tuple[int, int, str]:
    """Lines [start, end) that hold the fields of `key` (the whole file for None), and their indent."""
    if key is None:
        return 0, len(lines), ""
    start = next((i + 1 for i, line in enumerate(lines) if re.match(rf"{re.escape(key)}\s*:", line)), None)
    if start is None:
        raise ApprovalRefused(f"{path}: no entry {key!r}")
    end = next((i for i in range(start, len(lines)) if lines[i][:1] not in ("", " ", "\n", "#")
                and lines[i].strip()), len(lines))
    indent = next((line[:len(line) - len(line.lstrip())] for line in lines[start:end]
                   if line.strip() and not line.lstrip().startswith("#")), "  ")
    return start, end, indent


def _replace_review(lines: list[str], start: int, end: int, indent: str, new: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(indent)}review\s*:")
    for i in range(start, end):
        if pattern.match(lines[i]):
            stop = i + 1  # a review written as an indented block continues on deeper lines
            while stop < end and lines[stop].startswith(indent + " ") and lines[stop].strip():
                stop += 1
            # A comment on the old line ("not yet reviewed ...") no longer holds: it goes.
            return [*lines[:i], f"{indent}{new}\n", *lines[stop:]]
    last = end
    while last > start and not lines[last - 1].strip():
        last -= 1
    return [*lines[:last], f"{indent}{new}\n", *lines[last:]]


def awaiting(reviews: Iterable[tuple[str, Review]]) -> list[tuple[str, Review]]:
    """The (where, review) pairs that are not reviewed, in order."""
    return [(where, review) for where, review in reviews if not review.reviewed]
