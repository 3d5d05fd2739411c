"""The Redis cache shared by every process."""

from __future__ import annotations

import math

from meatlizard.core.cache.base import DEFAULT_PREFIX, Cache, outage
from meatlizard.core.redis_client import connect

# Compare-and-expire and compare-and-delete, atomic inside Redis.
RENEW_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class RedisCache(Cache):
    """Redis-backed cache shared by every process."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        super().__init__(prefix)
        self.client = connect(url)

    async def get(self, key: str) -> bytes | None:
        with outage():
            value = await self.client.get(self.key(key))
            # Without decode_responses the client returns bytes; str only if misconfigured.
            return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        with outage():
            px = None if ttl_seconds is None else max(1, math.ceil(ttl_seconds * 1000))
            await self.client.set(self.key(key), value, px=px)

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float | None) -> bool:
        with outage():
            px = None if ttl_seconds is None else max(1, math.ceil(ttl_seconds * 1000))
            return bool(await self.client.set(self.key(key), value, px=px, nx=True))

    async def delete(self, key: str) -> None:
        with outage():
            await self.client.delete(self.key(key))

    async def renew(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        with outage():
            px = max(1, math.ceil(ttl_seconds * 1000))
            return bool(await self.client.eval(RENEW_SCRIPT, 1, self.key(key), value, px))

    async def touch(self, key: str, *, ttl_seconds: float) -> bool:
        with outage():
            px = max(1, math.ceil(ttl_seconds * 1000))
            return bool(await self.client.pexpire(self.key(key), px))

    async def release(self, key: str, value: bytes) -> bool:
        with outage():
            return bool(await self.client.eval(RELEASE_SCRIPT, 1, self.key(key), value))

    async def incr(
        self, key: str, amount: int = 1, *, ttl_seconds: float | None = None, renew: bool = False
    ) -> int:
        with outage():
            full = self.key(key)
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incrby(full, amount)
                if ttl_seconds is not None:
                    # NX: only a key without an expiry gets one, so a fixed window never slides.
                    pipe.pexpire(full, max(1, math.ceil(ttl_seconds * 1000)), nx=not renew)
                results = await pipe.execute()
            return int(results[0])

    async def ttl(self, key: str) -> float | None:
        with outage():
            millis = await self.client.pttl(self.key(key))
            return None if millis < 0 else millis / 1000

    async def ping(self) -> None:
        with outage():
            await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()
