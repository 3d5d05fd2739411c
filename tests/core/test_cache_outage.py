"""The Redis cache when Redis stops and comes back empty: 503s, open limits, no stale pool."""

from __future__ import annotations

import pytest

from meatlizard.core.cache import CacheUnavailable, RedisCache
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.core.settings import Rate
from tests.fixtures.services import OwnRedis


async def test_outage_is_unavailable_and_limits_fail_as_stated(own_redis: OwnRedis) -> None:
    cache = RedisCache(own_redis.url)
    volume = RateLimiter(cache, "volume", Rate.parse("1/minute"), fail_open=True)
    guesses = RateLimiter(cache, "guesses", Rate.parse("1/minute"))
    try:
        await cache.set("k", b"v")
        assert (await volume.hit("a")).allowed and not (await volume.hit("a")).allowed
        own_redis.kill()
        with pytest.raises(CacheUnavailable, match="try again shortly"):
            await cache.get("k")
        assert (await volume.hit("a")).allowed  # a limit on volume lets events through
        with pytest.raises(CacheUnavailable):
            await guesses.hit("a")  # a limit on password guesses stays closed
    finally:
        await cache.close()


async def test_pooled_connections_survive_a_restart(own_redis: OwnRedis) -> None:
    cache = RedisCache(own_redis.url)
    try:
        # Several connections in the pool, all opened before the restart.
        for i in range(8):
            await cache.set(f"k{i}", b"v")
        own_redis.kill()
        own_redis.start()
        # Each command that picks up a connection from before is retried on a fresh one.
        for i in range(8):
            assert await cache.get(f"k{i}") is None  # back empty
            await cache.set(f"k{i}", b"w")
        assert await cache.get("k0") == b"w"
    finally:
        await cache.close()
