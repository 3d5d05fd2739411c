"""One way to open Redis connections for every part of the platform."""

from __future__ import annotations

import redis.asyncio as redis

MAX_CONNECTIONS = 64
# Past MAX_CONNECTIONS, callers wait this long for a free connection instead of failing.
POOL_WAIT_SECONDS = 10


def connect(url: str) -> redis.Redis:
    """Return a client whose pool makes bursts wait for a connection rather than error."""
    pool = redis.BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_SECONDS
    )
    return redis.Redis(connection_pool=pool)
