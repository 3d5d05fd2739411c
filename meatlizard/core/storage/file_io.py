"""Disk reads and writes of the local storage, done in a worker thread.

One hop to the thread per MiB instead of per 64 KiB keeps large transfers near disk speed
while a transfer holds at most ~1 MiB in memory.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import IO

from meatlizard.core.storage.base import PROGRESS_BYTES, Progress

IO_CHUNK_BYTES = 1024 * 1024


async def write_all(
    handle: IO[bytes], chunks: AsyncIterator[bytes], stored: Progress | None = None
) -> int:
    """Write the chunks in ~1 MiB batches, gathering the next while a thread writes the last.

    Chunks are handed over as they came (no copy into one buffer). What arrived is written
    even when the chunks fail; the count is returned on success. `stored` is awaited with
    the bytes written so far about every PROGRESS_BYTES.
    """
    size, batch, batch_bytes = 0, list[bytes](), 0
    written = reported = 0  # bytes whose write has finished; of them, reported to `stored`
    writing: asyncio.Future[None] | None = None
    try:
        async for chunk in chunks:
            batch.append(chunk)
            batch_bytes += len(chunk)
            size += len(chunk)
            if batch_bytes >= IO_CHUNK_BYTES:
                if writing is not None:
                    await writing
                    written = size - batch_bytes
                    if stored is not None and written - reported >= PROGRESS_BYTES:
                        await stored(written)
                        reported = written
                writing = asyncio.ensure_future(asyncio.to_thread(handle.writelines, batch))
                batch, batch_bytes = [], 0  # the thread owns the full batch now
    finally:
        if writing is not None:
            await writing
        await asyncio.to_thread(handle.writelines, batch)
    return size


def sync_file(handle: IO[bytes]) -> None:
    """Put what was written on disk (call it in a thread)."""
    handle.flush()
    os.fsync(handle.fileno())  # the rename must not expose a file whose data is not on disk


async def read_file(handle: IO[bytes], remaining: int) -> AsyncIterator[bytes]:
    """Yield up to `remaining` bytes of an open file in ~1 MiB reads; close it at the end."""
    try:
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(IO_CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()
