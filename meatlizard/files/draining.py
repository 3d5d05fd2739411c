"""Uploads in progress end cleanly when the server is told to stop.

A server stopping gives requests a few seconds and then cancels them, while it is already
closing the database and storage, so an upload cancelled then may not record what it
stored. At SIGTERM (or SIGINT) we cancel the uploads ourselves instead, at once: each one
records the offset it stored while everything is still open and answers 503, and a resume
on another process continues from there.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_writing: set[asyncio.Task[object]] = set()
_stopping = False


def watch_stop_signals() -> None:
    """Cancel the uploads in progress at SIGTERM/SIGINT, then let the server's handler run.

    Call it from the event loop in the main thread, after the server installed its own.
    """
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        previous = signal.getsignal(sig)
        if not callable(previous):  # no server handler: the default ends the process anyway
            continue

        def handler(signum: int, frame: FrameType | None, previous: object = previous) -> None:
            loop.call_soon_threadsafe(stop_uploads)
            previous(signum, frame)  # type: ignore[operator]

        signal.signal(sig, handler)


def stop_uploads() -> None:
    """Cancel every upload in progress (each records its offset and answers 503)."""
    global _stopping
    _stopping = True
    for task in list(_writing):
        task.cancel()


def stopping() -> bool:
    """Say whether the server is stopping (a cancelled upload should answer, not vanish)."""
    return _stopping


@contextmanager
def upload_in_progress() -> Iterator[None]:
    """Mark the current task as writing an upload until the block ends."""
    task = asyncio.current_task()
    assert task is not None
    _writing.add(task)
    if _stopping:  # began after the signal: ends at its first wait, like the others
        task.cancel()
    try:
        yield
    finally:
        _writing.discard(task)
