"""One way to open Redis connections for every part of the platform.

redis-py is imported here on first use, not at start-up: the embedded default (no REDIS_URL)
never opens a connection and is spared its ~6 MiB of modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
