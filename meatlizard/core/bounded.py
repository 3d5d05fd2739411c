"""Key-value entries held in this process's memory, bounded in count and in bytes.

The least recently used entry goes first when a bound is reached; entries with an expiry go
when it passes, found through a heap by `sweep` (no scan of the whole store), so memory held
by expired entries returns even if nobody reads them again. Pinned entries (keys under a
pinned prefix) are never evicted before they expire: they still count towards the bytes
reported, but only unpinned entries make room.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from typing import NamedTuple

# What a dict slot, the key object and the value object cost beyond their characters.
ENTRY_OVERHEAD_BYTES = 160
# Stale heap items (keys deleted or re-stored) are dropped in one pass once they outnumber
# the live entries by this factor, so a key stored again and again cannot grow the heap.
HEAP_SLACK = 2


class Entry(NamedTuple):
    """A stored value, its expiry (None: none) and the bytes it is counted as."""

    value: bytes
    expires: float | None
    size: int


def entry_size(key: str, value: bytes) -> int:
    """Return the bytes an entry is counted as (characters plus a fixed overhead)."""
    return len(key) + len(value) + ENTRY_OVERHEAD_BYTES


class CacheFull(Exception):
    """The in-process cache is full of entries it must not forget before they expire."""


class BoundedStore:
    """Entries in least-recently-used order, at most `max_entries` and about `max_bytes`."""

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.used_bytes = 0
        self._data: OrderedDict[str, Entry] = OrderedDict()
        self._pinned: dict[str, Entry] = {}
        self._pinned_prefixes: tuple[str, ...] = ()
        self._heap: list[tuple[float, str]] = []

    def pin(self, prefix: str) -> None:
        """Never evict keys under `prefix` early (they still expire)."""
        if prefix not in self._pinned_prefixes:
            self._pinned_prefixes += (prefix,)

    def _table(self, key: str) -> dict[str, Entry]:
        if key in self._pinned or (self._pinned_prefixes and key.startswith(self._pinned_prefixes)):
            return self._pinned
        return self._data

    def get(self, key: str, now: float) -> Entry | None:
        """Return the live entry (marking it recently used), dropping it if it expired."""
        table = self._table(key)
        entry = table.get(key)
        if entry is None:
            return None
        if entry.expires is not None and entry.expires <= now:
            self.pop(key)
            return None
        if table is self._data:
            self._data.move_to_end(key)
        return entry

    def put(self, key: str, value: bytes, expires: float | None, *, keep: bool = False) -> None:
        """Store an entry, evicting the least recently used unpinned ones until it fits.

        `keep` pins this one entry; when only pinned entries are left and the count is
        reached, CacheFull is raised instead of forgetting one of them.
        """
        self.pop(key)
        size = entry_size(key, value)
        table = self._pinned if keep else self._table(key)
        while self._data and (
            len(self) >= self.max_entries or self.used_bytes + size > self.max_bytes
        ):
            self.pop(next(iter(self._data)))
        if keep and len(self) >= self.max_entries:
            raise CacheFull(f"the in-process cache holds {self.max_entries} entries it must keep")
        table[key] = Entry(value, expires, size)
        self.used_bytes += size
        if expires is not None:
            heapq.heappush(self._heap, (expires, key))
            if len(self._heap) > HEAP_SLACK * (len(self._data) + len(self._pinned)) + 64:
                self._rebuild_heap()

    def replace(self, key: str, value: bytes) -> None:
        """Change a live entry's value, keeping its expiry."""
        table = self._table(key)
        old = table[key]
        size = entry_size(key, value)
        table[key] = Entry(value, old.expires, size)
        self.used_bytes += size - old.size

    def expire(self, key: str, expires: float) -> None:
        """Give a live entry a new expiry, keeping its value and its table (pinned or not)."""
        table = self._table(key)
        table[key] = table[key]._replace(expires=expires)
        heapq.heappush(self._heap, (expires, key))  # the old heap item is stale now: skipped

    def pop(self, key: str) -> Entry | None:
        """Remove an entry if present and return it."""
        entry = self._table(key).pop(key, None)
        if entry is not None:
            self.used_bytes -= entry.size
        return entry

    def sweep(self, now: float) -> int:
        """Remove every entry whose expiry has passed; return how many went."""
        removed = 0
        heap = self._heap
        while heap and heap[0][0] <= now:
            expires, key = heapq.heappop(heap)
            entry = self._table(key).get(key)
            # A heap item of a key deleted or stored again since is stale: skip it.
            if entry is not None and entry.expires == expires:
                self.pop(key)
                removed += 1
        return removed

    def next_expiry(self) -> float | None:
        """Return the earliest expiry still in the heap (it may be stale), or None."""
        return self._heap[0][0] if self._heap else None

    def _rebuild_heap(self) -> None:
        self._heap = [
            (entry.expires, key)
            for table in (self._data, self._pinned)
            for key, entry in table.items()
            if entry.expires is not None
        ]
        heapq.heapify(self._heap)

    def key_list(self) -> list[str]:
        """Return the stored keys (some may have expired but not yet been swept)."""
        return [*self._data, *self._pinned]

    def __len__(self) -> int:
        return len(self._data) + len(self._pinned)
