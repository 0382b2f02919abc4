"""Telegram's size limits, and long texts split into messages that fit them.

Telegram counts a text's length in UTF-16 code units (an emoji outside the basic plane counts
twice), so a text of 4096 Python characters can still be "too long".
"""

from __future__ import annotations

MESSAGE_LIMIT = 4096  # sendMessage, editMessageText
CAPTION_LIMIT = 1024  # captions of copied media
CALLBACK_DATA_LIMIT = 64  # bytes of an inline button's data


def telegram_length(text: str) -> int:
    """The length Telegram measures: UTF-16 code units."""
    return len(text) + sum(1 for character in text if ord(character) > 0xFFFF)


def fits_callback(data: str) -> bool:
    return 0 < len(data.encode()) <= CALLBACK_DATA_LIMIT


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` in parts of at most `limit`, cut at a paragraph, line or word where one is near the end."""
    parts: list[str] = []
    rest = text
    while telegram_length(rest) > limit:
        cut = _longest_prefix(rest, limit)
        for separator in ("\n\n", "\n", " "):
            at = rest.rfind(separator, 0, cut)
            if at > cut // 2:  # never leave a tiny first part for a far-away separator
                cut = at + len(separator)
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not parts:
        parts.append(rest)
    return parts


def _longest_prefix(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 code units."""
    used = 0
    for index, character in enumerate(text):
        used += 2 if ord(character) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)
