"""Telling a database that cannot be reached from a query that went wrong."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from sqlalchemy import exc as sa

from meatlizard.core.errors import Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

DATABASE_DOWN = "the database is unavailable; try again shortly"


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached (stopped, restarting, or the network is down)."""

    def __init__(self, message: str = DATABASE_DOWN) -> None:
        super().__init__(message)


# asyncpg's errors for a server that is gone, shutting down or still starting up.
DRIVER_OUTAGES = {
    "AdminShutdownError",
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "CrashShutdownError",
}


def is_db_outage(exc: BaseException) -> bool:
    """Return whether an error means the database cannot be reached right now."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    cause: BaseException | None = exc
    while cause is not None:
        # asyncpg reports a refused connection as a plain OSError, not wrapped by SQLAlchemy.
        if isinstance(cause, OSError | TimeoutError) or type(cause).__name__ in DRIVER_OUTAGES:
            return True
        cause = cause.__cause__
    return False


async def retry_while_down(
    call: Callable[[], Awaitable[T]], *, seconds: float, what: str, first: float = 0.2
) -> T:
    """Run `call`, retrying with bounded backoff while the database is down, for `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    delay = first
    while True:
        try:
            return await call()
        except Exception as exc:
            if not is_db_outage(exc):
                raise
            if loop.time() + delay > deadline:
                raise DatabaseUnavailable() from exc
            log.warning("%s: the database is unreachable (%s); retrying", what, exc)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


@contextlib.contextmanager
def unavailable_while_down() -> Iterator[None]:
    """Turn a database that cannot be reached into DatabaseUnavailable (a 503, a clear frame)."""
    try:
        yield
    except DatabaseUnavailable:
        raise
    except Exception as exc:
        if not is_db_outage(exc):
            raise
        raise DatabaseUnavailable() from exc
