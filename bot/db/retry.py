"""Retry a unit of work that lost a race inside the database (deadlock, serialization, SQLite lock),
and recognise a database that is away for a while (locked too long, restarting, unreachable).

PostgreSQL resolves a deadlock by aborting one of the transactions; the loser simply runs again.
A database that is away is not waited for inside a handler: the user is asked to send the message
again (bot/handlers/errors.py), and the pool checks connections before use (pool_pre_ping), so
the bot works again as soon as the database does.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
CONFLICTS = {"40P01", "40001"}  # deadlock_detected, serialization_failure
ATTEMPTS = 5


def is_conflict(error: DBAPIError) -> bool:
    original = error.orig
    code = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
    return code in CONFLICTS or "database is locked" in str(original)


def is_database_fault(error: BaseException | None) -> bool:
    """Whether `error` means the database is (briefly) unavailable or locked, rather than a bug."""
    if isinstance(error, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated) or is_conflict(error)
    # asyncpg raises these itself while connecting (refused, server starting or shutting down).
    return isinstance(error, (ConnectionError, OSError)) or type(error).__module__.startswith("asyncpg")


def retry_on_conflict(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run `function` again (a new transaction) when the database aborted it over a conflict."""

    @functools.wraps(function)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(ATTEMPTS):
            try:
                return await function(*args, **kwargs)
            except DBAPIError as error:
                if attempt == ATTEMPTS - 1 or not is_conflict(error):
                    raise
                logger.info("database conflict in %s; retrying", function.__name__)
                await asyncio.sleep(0.02 * 2**attempt)
        raise AssertionError("unreachable")

    return wrapper
