"""Values this process decoded from cached bytes, kept so a hot read decodes once.

Keyed by the cached bytes themselves, so a changed entry (new bytes) is decoded afresh. Bounded
in bytes and in entries (the oldest go first), and every entry goes `keep_seconds` after it was
decoded: by then the cached bytes it came from have expired, so it could only be found again
if the same bytes were cached again, and decoding them then is cheap. A timer sweeps while
anything is kept, so the memory returns when reads stop, not only at the next read.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from meatlizard.core.sweep_timer import SweepTimer

T = TypeVar("T")
SWEEP_SECONDS = 5.0  # how often kept entries past their time are dropped


class DecodedMemo(Generic[T]):
    """Decoded values by their cached bytes: at most `max_bytes`, `max_entries`, `keep_seconds`."""

    def __init__(
        self,
        *,
        max_bytes: int,
        keep_seconds: float,
        max_entries: int | None = None,
        sweep_seconds: float = SWEEP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.keep_seconds = keep_seconds
        self.used_bytes = 0
        self._entries: OrderedDict[bytes, tuple[T, float, int]] = OrderedDict()  # oldest first
        self._clock = clock
        self._timer = SweepTimer(sweep_seconds, self._sweep_while_kept)

    def __contains__(self, raw: bytes) -> bool:
        return raw in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, raw: bytes) -> T:
        """Return the value decoded from `raw` (KeyError when not kept)."""
        return self._entries[raw][0]

    def put(self, raw: bytes, value: T, size: int) -> None:
        """Keep `value`, counted as `size` bytes, making room by dropping the oldest."""
        now = self._clock()
        self._drop_older_than(now - self.keep_seconds)
        while self._entries and (
            self.used_bytes + size > self.max_bytes
            or (self.max_entries is not None and len(self._entries) >= self.max_entries)
        ):
            self._drop_oldest()
        if raw in self._entries:
            self._drop(raw)
        self._entries[raw] = (value, now, size)
        self.used_bytes += size
        self._timer.schedule()  # outside a loop, entries still go at the next put

    def sweep(self) -> int:
        """Drop the entries past `keep_seconds`; return how many went."""
        return self._drop_older_than(self._clock() - self.keep_seconds)

    def _drop_older_than(self, cutoff: float) -> int:
        dropped = 0
        while self._entries:
            _, decoded_at, _ = next(iter(self._entries.values()))
            if decoded_at > cutoff:
                break
            self._drop_oldest()
            dropped += 1
        return dropped

    def _drop_oldest(self) -> None:
        _, (_, _, size) = self._entries.popitem(last=False)
        self.used_bytes -= size

    def _drop(self, raw: bytes) -> None:
        _, _, size = self._entries.pop(raw)
        self.used_bytes -= size

    def _sweep_while_kept(self) -> bool:
        self.sweep()
        return bool(self._entries)
