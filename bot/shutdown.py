"""Clean shutdown of the console and classify commands on SIGTERM (Telegram mode: PTB does it)."""

from __future__ import annotations

import asyncio
import signal


def cancel_on_termination() -> None:
    """Cancel the running task on SIGTERM or SIGHUP, so its `finally` blocks stop the engine."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is None:
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, task.cancel)
