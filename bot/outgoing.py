"""What is sent: plain text with inline buttons, or with a reply keyboard that can ask for a location."""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import ButtonAction, encode


@dataclass(frozen=True)
class Button:
    """An inline button under a message."""

    label: str
    action: ButtonAction

    @property
    def data(self) -> str:
        return encode(self.action)


@dataclass(frozen=True)
class KeyboardButton:
    """A reply-keyboard button: it sends its label as text, or the user's location when asked."""

    label: str
    request_location: bool = False


@dataclass(frozen=True)
class Outgoing:
    """One message ready to send: plain text and rows of buttons (inline, or a reply keyboard)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    language: str = "en"
    rtl: bool = False
    keyboard: tuple[tuple[KeyboardButton, ...], ...] = ()
