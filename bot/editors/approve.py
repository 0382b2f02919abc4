"""`make review` lists what awaits review; `make approve` records a second person's approval."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.errors import ContentError
from bot.knowledge import Content, load_content, texts_fingerprint
from bot.review import Review, approve_in_file


def pending_reviews(content: Content) -> list[tuple[str, str, Review]]:
    """(where, what, review) of every answer and text file not reviewed, in file order."""
    found = [(f"{e.file}:{e.line}", f"{e.topic} ({e.language})", e.review)
             for e in sorted(content.entries.values(), key=lambda e: (e.file, e.line)) if not e.review.reviewed]
    found += [(f"{path}:1", Path(path).name, review) for path, review in sorted(content.file_reviews.items())
              if not review.reviewed]
    return found


def print_pending(root: Path) -> int:
    content = load_content(root / "knowledge_base")
    pending = pending_reviews(content)
    changed = [item for item in pending if item[2].status == "changed"]
    for where, what, review in changed + [item for item in pending if item[2].status != "changed"]:
        print(f"{_relative(where, root)}: {what}: {review.describe()}")
    reviewed = sum(1 for e in content.entries.values() if e.review.reviewed)
    print(f"{len(pending)} await review ({len(changed)} changed after a review); {reviewed} of "
          f"{len(content.entries)} answers are reviewed.")
    print('Approve one: make approve TOPIC=rights_detention LANG=fr BY="Your Name"; '
          'a whole file: make approve FILE=knowledge_base/fr/flows.yml BY="Your Name"')
    return 0


def approve(root: Path, by: str, *, topic: str | None = None, language: str | None = None,
            file: str | None = None, today: dt.date | None = None) -> list[str]:
    """Approve one answer, every answer of one file, or a flows/country-notes file; one line per outcome."""
    today = today or dt.date.today()
    content = load_content(root / "knowledge_base")
    outcomes = []
    if topic is not None:
        entry = content.entries.get((topic, language or "en"))
        if entry is None:
            raise ContentError(f"there is no answer for {topic!r} in {language!r}")
        targets = [entry]
    elif file is not None:
        path = str((root / file).resolve() if not Path(file).is_absolute() else Path(file))
        targets = sorted((e for e in content.entries.values() if str(Path(e.file).resolve()) == path),
                         key=lambda e: e.line)
        reviews = {str(Path(p).resolve()): (p, r) for p, r in content.file_reviews.items()}
        if path in reviews:
            original, review = reviews[path]
            texts = {key: text for key, text in content.texts.items() if text.file == original}
            approve_in_file(Path(original), None, texts_fingerprint(texts), review, by, today)
            return [f"{file}: approved by {by.strip()}"]
        if not targets:
            raise ContentError(f"{file} has no answers to approve")
    else:
        raise ContentError("say what to approve: TOPIC and LANG, or FILE")
    for entry in targets:
        what = f"{entry.topic} ({entry.language})"
        if entry.review.reviewed:
            outcomes.append(f"{what}: already {entry.review.describe()}")
            continue
        try:
            approve_in_file(Path(entry.file), entry.topic, entry.fingerprint, entry.review, by, today)
        except ContentError as exc:
            outcomes.append(f"{what}: NOT approved: {exc}")
            continue
        outcomes.append(f"{what}: approved by {by.strip()}")
    load_content(root / "knowledge_base")  # the rewritten files must still read back
    return outcomes


def _relative(where: str, root: Path) -> str:
    try:
        return str(Path(where).relative_to(root))
    except ValueError:
        return where
