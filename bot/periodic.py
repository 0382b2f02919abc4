"""Background jobs that run every few seconds until stopped, and outlive their own failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


async def repeat(work: Callable[[], Awaitable[object]], every: float, what: str) -> None:
    """Run `work` now, then every `every` seconds until cancelled; a failure is logged, not fatal."""
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a database or network hiccup must not stop the job for good
            logger.error("%s failed: %s", what, type(exc).__name__, exc_info=exc)
        await asyncio.sleep(every)


class Background:
    """One named background task, started once and stopped (cancelled and awaited) once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[None] | None = None

    def start(self, work: Callable[[], Awaitable[object]], every: float) -> None:
        if self._task is None:
            self._task = asyncio.create_task(repeat(work, every, self.name), name=self.name)

    async def stop(self) -> bool:
        """Stop the task; whether one was running."""
        task, self._task = self._task, None
        if task is None:
            return False
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return True
