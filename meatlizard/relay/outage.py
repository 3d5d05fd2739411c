"""Redis outages seen from the relay: what the user is told, how both sides wait it out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import redis.asyncio as redis

from meatlizard.core.redis_client import is_outage
from meatlizard.core.tasks import wait_event
from meatlizard.relay import redis_keys as keys
from meatlizard.relay.gateway import RelayFailed

log = logging.getLogger(__name__)

RELAY_DOWN = "the connection to the inference workers was lost; press regenerate"
# Reconnection attempts back off from FIRST to CAP seconds and go on until Redis answers.
BACKOFF_FIRST_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 3.0


@contextlib.contextmanager
def relay_failed_on_outage(lost: Callable[[], None]) -> Iterator[None]:
    """Turn an unreachable Redis into a RelayFailed the user can act on; call `lost` first."""
    try:
        yield
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("the relay lost Redis: %s", exc)
        lost()
        raise RelayFailed(RELAY_DOWN) from exc


async def quietly(call: Awaitable[Any]) -> None:
    """Await a clean-up call that may meet the same outage (nothing left to tell anyone)."""
    try:
        await call
    except Exception as exc:
        if not is_outage(exc):
            raise


async def request_lost(client: redis.Redis, request_id: str, entry_id: Any) -> bool:
    """Return whether Redis lost a request: neither its entry nor its reply stream is there.

    Redis restarted empty drops both; a request waiting for a worker keeps its entry and one
    being answered keeps its reply stream, and the entry goes only after the answer is in.
    """
    if await client.exists(keys.reply_stream(request_id)):
        return False
    return not await client.xrange(keys.REQUESTS_STREAM, min=entry_id, max=entry_id, count=1)


async def wait_for_redis(
    attempt: Callable[[], Awaitable[Any]], stopping: asyncio.Event, *, what: str
) -> bool:
    """Retry `attempt()` with bounded backoff until it succeeds; False if stopping first."""
    delay = BACKOFF_FIRST_SECONDS
    started = time.monotonic()
    while not stopping.is_set():
        try:
            await attempt()
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("%s: Redis unreachable (%s); retrying in %.1f s", what, exc, delay)
            await wait_event(stopping, delay)
            delay = min(delay * 2, BACKOFF_CAP_SECONDS)
            continue
        log.info("%s: Redis reachable after %.1f s", what, time.monotonic() - started)
        return True
    return False
