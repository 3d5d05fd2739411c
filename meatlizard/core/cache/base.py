"""The cache interface every backend implements, and the error an unreachable one raises."""

from __future__ import annotations

import abc
import contextlib
import logging
from collections.abc import Iterator

from meatlizard.core.errors import Unavailable
from meatlizard.core.redis_client import is_outage

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "ml:"


class CacheUnavailable(Unavailable):
    """The shared cache cannot be reached (Redis is down or restarting)."""


@contextlib.contextmanager
def outage() -> Iterator[None]:
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

    async def add(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        """Store a cached copy only if the key is missing; return whether it was stored.

        Unlike `set_if_absent` (locks and once-only markers, which must outlive any pressure
        on memory), what `add` stores is only a copy: a bounded cache may drop it for room.
        """
        return await self.set_if_absent(key, value, ttl_seconds=ttl_seconds)

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove a key (missing keys are fine)."""

    @abc.abstractmethod
    async def renew(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        """Give the key a new TTL if it still holds `value`; return whether it did (atomic)."""

    @abc.abstractmethod
    async def touch(self, key: str, *, ttl_seconds: float) -> bool:
        """Give an existing key a new TTL, whatever it holds; return False if it is absent."""

    @abc.abstractmethod
    async def release(self, key: str, value: bytes) -> bool:
        """Delete the key if it still holds `value`; return whether it did (atomic)."""

    @abc.abstractmethod
    async def incr(
        self, key: str, amount: int = 1, *, ttl_seconds: float | None = None, renew: bool = False
    ) -> int:
        """Add to a counter atomically; the TTL is set when the key is created, or every time
        with `renew` (a counter that lapses only after `ttl_seconds` without use)."""

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
