"""Cache and rate limits: in-process for the embedded default, Redis for several processes."""

from __future__ import annotations

import abc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from meatlizard.core.config import Rate, Settings
from meatlizard.core.redis_client import connect

DEFAULT_PREFIX = "ml:"
MEMORY_MAX_KEYS = 100_000


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
    async def incr(self, key: str, amount: int = 1, *, ttl_seconds: float | None = None) -> int:
        """Add to a counter atomically; the TTL is set only when the key is created."""

    @abc.abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Return the seconds left before the key expires, or None if it does not expire."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise unless the cache is usable."""

    async def close(self) -> None:  # noqa: B027 - only networked caches hold connections
        """Release connections."""


class CacheFull(Exception):
    """The in-process cache is full of entries it must not forget before they expire."""


class MemoryCache(Cache):
    """A dict with expiry; asyncio runs one coroutine at a time, so updates are atomic."""

    def __init__(
        self,
        prefix: str = DEFAULT_PREFIX,
        *,
        max_keys: int = MEMORY_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(prefix)
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._max_keys = max_keys
        self._clock = clock
        # Keys written by set_if_absent: locks and once-only markers (replay records). Their
        # meaning is "this happened"; forgetting one early would let it happen twice.
        self._markers: set[str] = set()

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._data.get(key)
        if entry is not None and entry[1] is not None and entry[1] <= self._clock():
            del self._data[key]
            self._markers.discard(key)
            return None
        return entry

    def _expiry(self, ttl_seconds: float | None) -> float | None:
        return None if ttl_seconds is None else self._clock() + ttl_seconds

    def _store(self, key: str, value: bytes, expires: float | None) -> None:
        if key not in self._data and len(self._data) >= self._max_keys:
            self._evict()
        self._data[key] = (value, expires)

    def _evict(self) -> None:
        now = self._clock()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            del self._data[key]
            self._markers.discard(key)
        if len(self._data) < self._max_keys:
            return
        # Oldest insertion first (dicts keep insertion order); live markers are never dropped.
        plain = (k for k in self._data if k not in self._markers)
        for oldest in [next(plain, None) for _ in range(len(self._data) - self._max_keys + 1)]:
            if oldest is None:
                raise CacheFull(f"the in-process cache holds {self._max_keys} live markers")
            del self._data[oldest]

    async def get(self, key: str) -> bytes | None:
        entry = self._live(self.key(key))
        return None if entry is None else entry[0]

    async def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        self._store(self.key(key), value, self._expiry(ttl_seconds))

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float | None) -> bool:
        full = self.key(key)
        if self._live(full) is not None:
            return False
        self._store(full, value, self._expiry(ttl_seconds))
        self._markers.add(full)
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(self.key(key), None)
        self._markers.discard(self.key(key))

    async def incr(self, key: str, amount: int = 1, *, ttl_seconds: float | None = None) -> int:
        full = self.key(key)
        entry = self._live(full)
        if entry is None:
            self._store(full, str(amount).encode(), self._expiry(ttl_seconds))
            return amount
        value = int(entry[0]) + amount
        self._data[full] = (str(value).encode(), entry[1])
        return value

    async def ttl(self, key: str) -> float | None:
        entry = self._live(self.key(key))
        if entry is None or entry[1] is None:
            return None
        return max(0.0, entry[1] - self._clock())

    async def ping(self) -> None:
        return None

    def __len__(self) -> int:
        return len(self._data)


class RedisCache(Cache):
    """Redis-backed cache shared by every process."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        super().__init__(prefix)
        self.client = connect(url)

    async def get(self, key: str) -> bytes | None:
        value = await self.client.get(self.key(key))
        # Without decode_responses the client returns bytes; str only if misconfigured.
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, *, ttl_seconds: float | None = None) -> None:
        px = None if ttl_seconds is None else max(1, math.ceil(ttl_seconds * 1000))
        await self.client.set(self.key(key), value, px=px)

    async def set_if_absent(self, key: str, value: bytes, *, ttl_seconds: float | None) -> bool:
        px = None if ttl_seconds is None else max(1, math.ceil(ttl_seconds * 1000))
        return bool(await self.client.set(self.key(key), value, px=px, nx=True))

    async def delete(self, key: str) -> None:
        await self.client.delete(self.key(key))

    async def incr(self, key: str, amount: int = 1, *, ttl_seconds: float | None = None) -> int:
        full = self.key(key)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incrby(full, amount)
            if ttl_seconds is not None:
                # NX: only a key without an expiry gets one, so a fixed window never slides.
                pipe.pexpire(full, max(1, math.ceil(ttl_seconds * 1000)), nx=True)
            results = await pipe.execute()
        return int(results[0])

    async def ttl(self, key: str) -> float | None:
        millis = await self.client.pttl(self.key(key))
        return None if millis < 0 else millis / 1000

    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


@dataclass(frozen=True)
class RateDecision:
    """Whether an event is allowed, how many remain, and when to retry if not."""

    allowed: bool
    remaining: int
    retry_after_seconds: float


class RateLimiter:
    """Fixed-window counter: at most `rate.count` events per window per identity."""

    def __init__(
        self, cache: Cache, name: str, rate: Rate, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.cache = cache
        self.name = name
        self.rate = rate
        self._clock = clock

    def _window(self) -> tuple[str, float]:
        now = self._clock()
        window = int(now // self.rate.window_seconds)
        left = (window + 1) * self.rate.window_seconds - now
        return str(window), left

    def _key(self, identity: str, window: str) -> str:
        return f"rl:{self.name}:{identity}:{window}"

    def _decide(self, count: int, left: float) -> RateDecision:
        allowed = count <= self.rate.count
        return RateDecision(allowed, max(0, self.rate.count - count), 0.0 if allowed else left)

    async def hit(self, identity: str) -> RateDecision:
        """Count one event and say whether it is allowed."""
        window, left = self._window()
        count = await self.cache.incr(self._key(identity, window), ttl_seconds=left + 1)
        return self._decide(count, left)

    async def peek(self, identity: str) -> RateDecision:
        """Say whether one more event would be allowed, without counting it."""
        window, left = self._window()
        raw = await self.cache.get(self._key(identity, window))
        return self._decide((int(raw) if raw else 0) + 1, left)

    async def give_back(self, identity: str) -> None:
        """Return one counted event (an attempt that turned out to be allowed for free)."""
        window, left = self._window()
        await self.cache.incr(self._key(identity, window), -1, ttl_seconds=left + 1)

    async def reset(self, identity: str) -> None:
        """Forget the identity's events in the current window."""
        window, _ = self._window()
        await self.cache.delete(self._key(identity, window))


def cache_from_settings(settings: Settings) -> Cache:
    """Return Redis when REDIS_URL is set, otherwise the in-process cache."""
    return RedisCache(settings.redis_url) if settings.redis_url else MemoryCache()


__all__ = [
    "Cache",
    "CacheFull",
    "MemoryCache",
    "RateDecision",
    "RateLimiter",
    "RedisCache",
    "cache_from_settings",
]
