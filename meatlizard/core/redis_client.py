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


def connect(url: str) -> redis.Redis:
    """Return a client whose pool makes bursts wait for a connection rather than error."""
    import redis.asyncio as redis

    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS
    )
    return redis.Redis(connection_pool=pool)


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
