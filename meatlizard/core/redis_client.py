"""One way to open Redis connections for every part of the platform.

redis-py is imported here on first use, not at start-up: the embedded default (no REDIS_URL)
never opens a connection and is spared its ~6 MiB of modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis.asyncio as redis

MAX_CONNECTIONS = 64
# Past MAX_CONNECTIONS, callers wait this long for a free connection instead of failing.
POOL_WAIT_SECONDS = 10
# A pooled connection idle this long is pinged before use, so that one left over from before
# a Redis restart is replaced instead of failing the command that picks it up.
HEALTH_CHECK_SECONDS = 5
CONNECT_TIMEOUT_SECONDS = 5
# A command that meets a dropped connection is retried on a fresh one, backing off up to
# RETRY_CAP_SECONDS; past RETRIES the caller sees the outage.
RETRIES = 3
RETRY_BASE_SECONDS = 0.05
RETRY_CAP_SECONDS = 1.0


def connect(url: str) -> redis.Redis:
    """Return a client that waits for a free connection and rides out dropped connections."""
    import redis.asyncio as redis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff

    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT_SECONDS,
        health_check_interval=HEALTH_CHECK_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_keepalive=True,
        retry=Retry(ExponentialBackoff(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS), RETRIES),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
    return redis.Redis(connection_pool=pool)


def is_outage(exc: BaseException) -> bool:
    """Return whether an error means Redis cannot be reached (as opposed to a bad command)."""
    import redis.asyncio as redis

    # NOGROUP: Redis came back empty and the consumer group is gone with the data.
    lost_group = isinstance(exc, redis.ResponseError) and str(exc).startswith("NOGROUP")
    return isinstance(exc, redis.ConnectionError | redis.TimeoutError) or lost_group


async def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    """Create a consumer group reading a stream from its start, unless it exists already."""
    import redis.asyncio as redis

    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def pending_entry(
    client: redis.Redis, stream: str, group: str, entry_id: Any
) -> dict[str, Any] | None:
    """Return a group's pending record of one entry (consumer, times_delivered...), or None."""
    found: Any = await client.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
    return dict(found[0]) if found else None
