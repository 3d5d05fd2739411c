"""Freed heap goes back to the system after a load, not only at the top of the heap.

Run in a fresh interpreter: the test process's own heap would blur the figures.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from meatlizard.core.memory import FreedHeap

MIB = 1024 * 1024

# What a load leaves: many mid-sized blocks (cached pastes, drawn pages) freed, with small
# live blocks between them, so none of the free memory is at the top of the heap.
SCRIPT = """
import asyncio, json
from meatlizard.core.memory import HeapTrimmer, release_large_blocks, resident_bytes
release_large_blocks()  # as the server does: blocks under 4 MiB come from the heap
trimmer = HeapTrimmer(threshold_bytes=32 * 1024 * 1024)
blocks, keepers = [], []
block, keeper = 200 * 1024, 600  # names, not literals: b"k" * 600 would be one constant
for i in range(600):
    blocks.append(b"x" * block)  # written, so resident
    keepers.append(b"k" * keeper)  # a live heap block after each one
start = resident_bytes()
del blocks
freed = resident_bytes()
given_back = asyncio.run(trimmer.sweep_once())
trimmed = resident_bytes()
again = asyncio.run(trimmer.sweep_once())  # nothing new was freed: no second trim
print(json.dumps([start, freed, trimmed, given_back, again]))
"""


def test_freed_heap_goes_back_once_enough_has_piled_up() -> None:
    if not FreedHeap(0).available:
        pytest.skip("the C library is not glibc 2.33 or later: no mallinfo2/malloc_trim")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    start, freed, trimmed, given_back, again = json.loads(done.stdout)
    # 117 MiB were freed in the middle of the heap: glibc alone keeps nearly all of it.
    assert start - freed < 20 * MIB, (start, freed)
    assert freed - trimmed > 80 * MIB, (freed, trimmed)
    assert given_back > 80 and again == 0
