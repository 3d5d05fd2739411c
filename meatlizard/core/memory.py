"""Give freed memory back to the system: glibc malloc settings at start-up, trims after loads.

glibc serves an allocation above its mmap threshold with a mapping of its own and unmaps it
when it is freed. The threshold is dynamic, though: whenever such a block is freed, glibc
raises the threshold to that block's size (up to 32 MiB), so the next allocation of the size
comes from a heap, where it stays after it is freed. Argon2's 19 MiB work area per password
hash is exactly that case: the hash computed at import is returned, but every later login
left 19 MiB in its hashing thread's heap for the life of the process (the resident memory
went from 94 to 117 MiB after one login). Setting the thresholds explicitly turns the dynamic
adjustment off: blocks above MMAP_THRESHOLD_BYTES are unmapped on free, smaller ones (the
1 MiB buffers of file transfers, Python's objects) are reused from the heap as before.
"""

from __future__ import annotations

import ctypes
import resource

from meatlizard.core.sweeper import Sweeper

# Larger blocks get a mapping of their own, unmapped when freed (argon2's 19 MiB).
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
# Free memory at the top of a heap beyond this is returned to the system (glibc's dynamic
# rule would have set twice the mmap threshold too, but only after the first big free).
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES
# Freed heap is handed back once this much more of it has piled up (checked every interval).
TRIM_GROWTH_BYTES = 32 * 1024 * 1024
TRIM_INTERVAL_SECONDS = 30.0
# mallopt() parameter numbers from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def release_large_blocks() -> bool:
    """Fix glibc's mmap and trim thresholds; return False where the C library is not glibc."""
    libc = ctypes.CDLL(None)  # the symbols the interpreter is linked with, the C library's too
    if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: their own allocator
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )


class _MallInfo2(ctypes.Structure):
    """glibc's `struct mallinfo2` (2.33+): every field a size_t."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


class FreedHeap:
    """Hands freed heap memory back to the system once enough of it has piled up.

    glibc returns only the free memory at the top of a heap by itself. After a load, the
    memory that held cached pastes and decoded pages is free but scattered below live
    blocks, so the resident size stays at its peak for the life of the process (a soak
    measured 233 MiB idle, 139 MiB after one `malloc_trim`). `malloc_trim(0)` gives back
    the whole pages inside free chunks; it takes about 10 ms for a few hundred MiB of heap,
    so it runs only when the free bytes have grown by `threshold_bytes` since the last time.
    """

    def __init__(self, threshold_bytes: int) -> None:
        self.threshold_bytes = threshold_bytes
        self._libc = ctypes.CDLL(None)
        self.available = hasattr(self._libc, "mallinfo2") and hasattr(self._libc, "malloc_trim")
        if self.available:
            self._libc.mallinfo2.restype = _MallInfo2
            self._libc.malloc_trim.argtypes = [ctypes.c_size_t]
            self._libc.malloc_trim.restype = ctypes.c_int
        self._baseline = self.free_bytes()

    def free_bytes(self) -> int:
        """Return the bytes the allocator holds free (0 where it is not glibc 2.33+)."""
        return int(self._libc.mallinfo2().fordblks) if self.available else 0

    def trim_if_grown(self) -> bool:
        """Give free pages back if the free bytes grew past the threshold; True if it ran."""
        free = self.free_bytes()
        self._baseline = min(self._baseline, free)  # reused since: measure from the lower level
        if free - self._baseline < self.threshold_bytes:
            return False
        self._libc.malloc_trim(0)
        self._baseline = free
        return True


def resident_bytes() -> int:
    """Return this process's resident set size (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0


class HeapTrimmer(Sweeper):
    """Checks every `interval_seconds` whether freed heap should go back to the system."""

    name = "heap-trimmer"
    swept_what = "MiB of resident memory given back (freed heap)"

    def __init__(
        self,
        interval_seconds: float = TRIM_INTERVAL_SECONDS,
        threshold_bytes: int = TRIM_GROWTH_BYTES,
    ) -> None:
        super().__init__(interval_seconds)
        self.heap = FreedHeap(threshold_bytes)

    def start(self) -> None:
        if self.heap.available:  # other C libraries: nothing to do
            super().start()

    async def sweep_once(self) -> int:
        """Trim if enough heap was freed; return the MiB the resident size fell by."""
        before = resident_bytes()
        if not self.heap.trim_if_grown():
            return 0
        return max(0, before - resident_bytes()) // (1024 * 1024)
