"""A background loop that runs one domain's clean-up at a fixed interval until stopped."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


class Sweeper(abc.ABC):
    """Runs `sweep_once` every `interval_seconds`; a failed sweep is logged and retried."""

    name: str  # task name, e.g. "paste-sweeper"
    swept_what: str  # for the log line, e.g. "expired pastes"

    def __init__(self, interval_seconds: float) -> None:
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def sweep_once(self) -> int:
        """Run one sweep and return how many things went."""

    def start(self) -> None:
        """Begin sweeping in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            try:
                swept = await self.sweep_once()
                if swept:
                    log.info("%s: swept %d %s", self.name, swept, self.swept_what)
            except Exception:  # a failed sweep must not end the loop; the next one retries
                log.exception("%s: sweep failed", self.name)
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        """Stop sweeping."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
