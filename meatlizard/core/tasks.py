"""Stopping a background task within a bound, even when a library swallows its cancellation."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

# How long a cancelled task may take to finish before its owner goes on without it.
STOP_WITHIN_SECONDS = 5.0


async def cancel_and_wait(task: asyncio.Task[Any], *, within: float = STOP_WITHIN_SECONDS) -> bool:
    """Cancel a task and wait for it at most `within` seconds; return whether it finished.

    A library that catches the cancellation in the middle of an I/O wait (and waits again)
    would otherwise hold up whoever stops the task for ever; such a task is logged and left.
    """
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=within)
    if not done:
        log.warning(
            "task %s did not stop within %.0f s of its cancellation", task.get_name(), within
        )
        return False
    if not task.cancelled() and task.exception() is not None:
        log.warning("task %s ended with %r", task.get_name(), task.exception())
    return True


def being_cancelled() -> bool:
    """Return whether the running task was asked to stop (for loops that retry on errors)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` pass; return whether it was set.

    Not `asyncio.wait_for(event.wait(), ...)`: on Python 3.11 that swallows a cancel that
    arrives as the event is set, and the caller's loop would go on after being stopped.
    """
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()
    return event.is_set()
