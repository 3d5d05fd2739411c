"""Give big freed blocks back to the system (glibc malloc settings, applied at start-up).

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

# Larger blocks get a mapping of their own, unmapped when freed (argon2's 19 MiB).
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
# Free memory at the top of a heap beyond this is returned to the system (glibc's dynamic
# rule would have set twice the mmap threshold too, but only after the first big free).
TRIM_THRESHOLD_BYTES = 2 * MMAP_THRESHOLD_BYTES
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
