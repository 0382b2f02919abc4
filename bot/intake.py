"""Updates are confirmed to Telegram only once they are safe, so a crash loses no relayed message.

Long polling confirms updates with the `offset` of the next getUpdates call, and
python-telegram-bot makes that call as soon as a batch is queued: a process killed while it
handles the batch would lose it. This bot asks for (and so confirms) the next batch only when
every update of the previous one is settled: handled (`handled`), or past the point where
nothing can be lost (`settled`: the relay has stored a handoff message in the database, or
found it is none).
Telegram hands unconfirmed updates out again after a restart, and the relay stores each
Telegram message once, so one handled twice is harmless. A question to the assistant is
settled before the engine answers it, so a slow engine does not hold up everybody's messages;
a crash during that answer loses the answer (the person asks again), never a relayed message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)

# Longer than any update should take to settle (database busy timeout); then the batch is
# confirmed anyway, so one stuck update cannot stop the bot from reading new ones.
CONFIRM_WAIT = 30.0


class ConfirmingBot(ExtBot[None]):
    """An ExtBot whose getUpdates first waits until the updates it would confirm are settled."""

    def __init__(self, token: str, base_url: str, base_file_url: str) -> None:
        # The requests python-telegram-bot's builder would make: a wide pool for sending, one for polling.
        super().__init__(token, base_url=base_url, base_file_url=base_file_url,
                         request=HTTPXRequest(connection_pool_size=256), get_updates_request=HTTPXRequest())
        self._handling: asyncio.Queue[Any] | None = None  # the application's update queue
        self._unsettled: set[int] = set()
        self._all_settled = asyncio.Event()

    def confirm_after(self, queue: asyncio.Queue[Any]) -> None:
        """Confirm updates once settled, or once `queue` (the application's update queue) has handled them."""
        self._handling = queue

    def settled(self, update_id: int) -> None:
        """Nothing of this update can be lost any more: Telegram may be told it arrived."""
        self._unsettled.discard(update_id)
        if not self._unsettled:
            self._all_settled.set()

    async def get_updates(self, offset: int | None = None, limit: int | None = None,
                          timeout: Any = None,  # noqa: ASYNC109 (Telegram's long-polling timeout)
                          allowed_updates: Sequence[str] | None = None, **kwargs: Any) -> tuple[Update, ...]:
        if offset and self._handling is not None and self._unsettled:
            await self._settle()
        updates = await super().get_updates(offset, limit, timeout, allowed_updates, **kwargs)
        if self._handling is not None and updates:
            self._unsettled.update(update.update_id for update in updates)
            self._all_settled.clear()
        return updates

    async def _settle(self) -> None:
        assert self._handling is not None
        waits = [asyncio.ensure_future(self._all_settled.wait()), asyncio.ensure_future(self._handling.join())]
        try:
            _, pending = await asyncio.wait(waits, timeout=CONFIRM_WAIT, return_when=asyncio.FIRST_COMPLETED)
            if len(pending) == len(waits):
                logger.warning("updates unsettled after %.0f s are confirmed anyway", CONFIRM_WAIT)
        finally:
            for wait in waits:
                wait.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await wait
        self._unsettled.clear()


def settled(bot: object, update: Update) -> None:
    """Tell `bot` (when it is a ConfirmingBot) that `update` is safe to confirm."""
    if isinstance(bot, ConfirmingBot):
        bot.settled(update.update_id)


def handled(update: object) -> None:
    """`update` has been handled (answered, relayed, or failed and apologised for): safe to confirm."""
    if isinstance(update, Update):
        with contextlib.suppress(RuntimeError):  # an update built without a bot
            settled(update.get_bot(), update)
