"""The in-process cache of the embedded default: bounded, with expiry swept by time."""

from __future__ import annotations

import time
from collections.abc import Callable

from meatlizard.core.bounded import BoundedStore, CacheFull, Entry
from meatlizard.core.cache.base import DEFAULT_PREFIX, Cache
from meatlizard.core.sweep_timer import SweepTimer

MEMORY_MAX_KEYS = 100_000
MEMORY_MAX_BYTES = 64 * 1024 * 1024  # the default of CACHE_MEMORY_MAX_BYTES
SWEEP_SECONDS = 1.0  # how often expired in-process entries are removed


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
        self._clock = clock
        self._timer = SweepTimer(sweep_seconds, self._sweep)

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
            self._timer.schedule()

    def _sweep(self) -> bool:
        self._store.sweep(self._clock())
        return self._store.next_expiry() is not None

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
            self._timer.schedule()
        return True

    async def add(self, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        full = self.key(key)
        if self._live(full) is not None:
            return False
        self._put(full, value, self._expiry(ttl_seconds))  # not pinned: evicted for room
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

    async def touch(self, key: str, *, ttl_seconds: float) -> bool:
        full = self.key(key)
        if self._live(full) is None:
            return False
        self._store.expire(full, self._clock() + ttl_seconds)
        self._timer.schedule()
        return True

    async def release(self, key: str, value: bytes) -> bool:
        full = self.key(key)
        entry = self._live(full)
        if entry is None or entry.value != value:
            return False
        self._store.pop(full)
        return True

    async def incr(
        self, key: str, amount: int = 1, *, ttl_seconds: float | None = None, renew: bool = False
    ) -> int:
        full = self.key(key)
        entry = self._live(full)
        if entry is None:
            self._put(full, str(amount).encode(), self._expiry(ttl_seconds))
            return amount
        value = int(entry.value) + amount
        self._store.replace(full, str(value).encode())
        if renew and ttl_seconds is not None:
            self._store.expire(full, self._clock() + ttl_seconds)
            self._timer.schedule()
        return value

    async def ttl(self, key: str) -> float | None:
        entry = self._live(self.key(key))
        if entry is None or entry.expires is None:
            return None
        return max(0.0, entry.expires - self._clock())

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._timer.cancel()

    def names(self) -> list[str]:
        """Return the names of the stored keys, without the prefix."""
        return [key.removeprefix(self.prefix) for key in self._store.key_list()]

    def __len__(self) -> int:
        return len(self._store)
