"""Cache and rate limits: in-process for the embedded default, Redis for several processes."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator

from meatlizard.core.bounded import BoundedStore, CacheFull, Entry
from meatlizard.core.config import Settings
from meatlizard.core.errors import Unavailable
from meatlizard.core.redis_client import connect, is_outage

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "ml:"
MEMORY_MAX_KEYS = 100_000
MEMORY_MAX_BYTES = 64 * 1024 * 1024  # the default of CACHE_MEMORY_MAX_BYTES
SWEEP_SECONDS = 1.0  # how often expired in-process entries are removed
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


class CacheUnavailable(Unavailable):
    """The shared cache cannot be reached (Redis is down or restarting)."""


@contextlib.contextmanager
def _outage() -> Iterator[None]:
    """Turn an unreachable Redis into CacheUnavailable, which the web layer answers with 503."""
    try:
        yield
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("the cache is unreachable: %s", exc)
        raise CacheUnavailable("a service this needs is restarting; try again shortly") from exc


class Cache(abc.ABC):
    """A small key-value store with expiry and atomic counters."""

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = prefix

    def key(self, name: str) -> str:
        return self.prefix + name

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None:
        """Return the value, or None when missing or expired."""

    @abc.abstractmethod
    async def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        """Store a value, optionally expiring."""

    @abc.abstractmethod
    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float | None) -> bool:
        """Store only if the key is missing; return whether it was stored (atomic)."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove a key (missing keys are fine)."""

    @abc.abstractmethod
    async def renew(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        """Give the key a new TTL if it still holds `value`; return whether it did (atomic)."""

    @abc.abstractmethod
    async def release(self, key: str, value: bytes) -> bool:
        """Delete the key if it still holds `value`; return whether it did (atomic)."""

    @abc.abstractmethod
    async def incr(self, key: str, amount: int = 1, *, ttl_seconds: float | None = None) -> int:
        """Add to a counter atomically; the TTL is set only when the key is created."""

    @abc.abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Return the seconds left before the key expires, or None if it does not expire."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise unless the cache is usable."""

    def pin(self, prefix: str) -> None:  # noqa: B027 - only bounded caches evict early
        """Never evict keys under `prefix` before they expire (Redis: its maxmemory-policy)."""

    async def close(self) -> None:  # noqa: B027 - only networked caches hold connections
        """Release connections."""


class MemoryCache(Cache):
    """A bounded store with expiry; asyncio runs one coroutine at a time, so updates are atomic.

    At most `max_keys` entries and about `max_bytes`: the least recently used go first.
    Expired entries are swept every `sweep_seconds` while any entry has an expiry, so the
    memory they held returns without anyone reading them again.
    """

    def __init__(
        self,
        prefix: str = DEFAULT_PREFIX,
        *,
        max_keys: int = MEMORY_MAX_KEYS,
        max_bytes: int = MEMORY_MAX_BYTES,
        sweep_seconds: float = SWEEP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(prefix)
        self._store = BoundedStore(max_entries=max_keys, max_bytes=max_bytes)
        self._sweep_seconds = sweep_seconds
        self._clock = clock
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    @property
    def used_bytes(self) -> int:
        """Return the bytes the entries are counted as."""
        return self._store.used_bytes

    def pin(self, prefix: str) -> None:
        self._store.pin(self.key(prefix))

    def _live(self, key: str) -> Entry | None:
        return self._store.get(key, self._clock())

    def _expiry(self, ttl_seconds: float | None) -> float | None:
        return None if ttl_seconds is None else self._clock() + ttl_seconds

    def _put(self, key: str, value: bytes, expires: float | None) -> None:
        self._store.put(key, value, expires)
        if expires is not None:
            self._schedule_sweep()

    def _schedule_sweep(self) -> None:
        loop = asyncio.get_running_loop()
        if self._timer is not None and self._timer_loop is loop:
            return
        self._timer_loop = loop
        self._timer = loop.call_later(self._sweep_seconds, self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        self._store.sweep(self._clock())
        if self._store.next_expiry() is not None:
            self._schedule_sweep()

    async def get(self, key: str) -> bytes | None:
        entry = self._live(self.key(key))
        return None if entry is None else entry.value

    async def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        self._put(self.key(key), value, self._expiry(ttl_seconds))

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float | None) -> bool:
        full = self.key(key)
        if self._live(full) is not None:
            return False
        # A lock or a once-only marker (a replay record) means "this happened": it is never
        # dropped to make room; when the cache is full of them the new one is refused.
        expires = self._expiry(ttl_seconds)
        try:
            self._store.put(full, value, expires, keep=True)
        except CacheFull:
            self._store.sweep(self._clock())
            self._store.put(full, value, expires, keep=True)
        if expires is not None:
            self._schedule_sweep()
        return True

    async def delete(self, key: str) -> None:
        self._store.pop(self.key(key))

    async def renew(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        full = self.key(key)
        entry = self._live(full)
        if entry is None or entry.value != value:
            return False
        self._put(full, value, self._expiry(ttl_seconds))
        return True

    async def release(self, key: str, value: bytes) -> bool:
        full = self.key(key)
        entry = self._live(full)
        if entry is None or entry.value != value:
            return False
        self._store.pop(full)
        return True

    async def incr(self, key: str, amount: int = 1, *, ttl_seconds: float | None = None) -> int:
        full = self.key(key)
        entry = self._live(full)
        if entry is None:
            self._put(full, str(amount).encode(), self._expiry(ttl_seconds))
            return amount
        value = int(entry.value) + amount
        self._store.replace(full, str(value).encode())
        return value

    async def ttl(self, key: str) -> float | None:
        entry = self._live(self.key(key))
        if entry is None or entry.expires is None:
            return None
        return max(0.0, entry.expires - self._clock())

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def names(self) -> list[str]:
        """Return the names of the stored keys, without the prefix."""
        return [key.removeprefix(self.prefix) for key in self._store.key_list()]

    def __len__(self) -> int:
        return len(self._store)


class RedisCache(Cache):
    """Redis-backed cache shared by every process."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        super().__init__(prefix)
        self.client = connect(url)

    async def get(self, key: str) -> bytes | None:
        with _outage():
            value = await self.client.get(self.key(key))
            # Without decode_responses the client returns bytes; str only if misconfigured.
            return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        with _outage():
            px = None if ttl_seconds is None else max(1, math.ceil(ttl_seconds * 1000))
            await self.client.set(self.key(key), value, px=px)

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float | None) -> bool:
        with _outage():
            px = None if ttl_seconds is None else max(1, math.ceil(ttl_seconds * 1000))
            return bool(await self.client.set(self.key(key), value, px=px, nx=True))

    async def delete(self, key: str) -> None:
        with _outage():
            await self.client.delete(self.key(key))

    async def renew(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        with _outage():
            px = max(1, math.ceil(ttl_seconds * 1000))
            return bool(await self.client.eval(RENEW_SCRIPT, 1, self.key(key), value, px))

    async def release(self, key: str, value: bytes) -> bool:
        with _outage():
            return bool(await self.client.eval(RELEASE_SCRIPT, 1, self.key(key), value))

    async def incr(self, key: str, amount: int = 1, *, ttl_seconds: float | None = None) -> int:
        with _outage():
            full = self.key(key)
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incrby(full, amount)
                if ttl_seconds is not None:
                    # NX: only a key without an expiry gets one, so a fixed window never slides.
                    pipe.pexpire(full, max(1, math.ceil(ttl_seconds * 1000)), nx=True)
                results = await pipe.execute()
            return int(results[0])

    async def ttl(self, key: str) -> float | None:
        with _outage():
            millis = await self.client.pttl(self.key(key))
            return None if millis < 0 else millis / 1000

    async def ping(self) -> None:
        with _outage():
            await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


def cache_from_settings(settings: Settings) -> Cache:
    """Return Redis when REDIS_URL is set, otherwise the in-process cache."""
    if settings.redis_url:
        return RedisCache(settings.redis_url)
    return MemoryCache(max_bytes=settings.cache_memory_max_bytes)


__all__ = [
    "Cache",
    "CacheFull",
    "CacheUnavailable",
    "MemoryCache",
    "RedisCache",
    "cache_from_settings",
]
