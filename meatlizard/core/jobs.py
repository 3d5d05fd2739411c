"""Background jobs run in this process (the embedded default), tracked so none is lost at exit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 30.0


class JobRunner:
    """Starts coroutines in the background and waits for them at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, job: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run `job` in the background; failures are logged, never silently dropped."""
        task = asyncio.create_task(job, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background job %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, grace_seconds: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Let running jobs finish (up to `grace_seconds`), then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in pending:
            log.warning("cancelling background job %s at shutdown", task.get_name())
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
