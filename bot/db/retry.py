"""Retry a unit of work that lost a race inside the database (deadlock, serialization, SQLite lock).

PostgreSQL resolves a deadlock by aborting one of the transactions; the loser simply runs again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
CONFLICTS = {"40P01", "40001"}  # deadlock_detected, serialization_failure
ATTEMPTS = 5


def is_conflict(error: DBAPIError) -> bool:
    original = error.orig
    code = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
    return code in CONFLICTS or "database is locked" in str(original)


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
