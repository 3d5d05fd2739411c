"""The periodic sweep that removes expired files and abandoned uploads, objects first."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.storage import ObjectStorage
from meatlizard.files.service import sweep

log = logging.getLogger(__name__)
SWEEP_INTERVAL_SECONDS = 300.0


class FileSweeper:
    """Deletes expired files and uploads every `interval_seconds` until stopped."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: ObjectStorage,
        interval_seconds: float = SWEEP_INTERVAL_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._storage = storage
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin sweeping in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="file-sweeper")

    async def sweep_once(self) -> int:
        """Run one sweep and return how many files went."""
        async with self._sessions() as db:
            return await sweep(db, self._storage)

    async def _run(self) -> None:
        while True:
            try:
                swept = await self.sweep_once()
                if swept:
                    log.info("swept %d expired files and uploads", swept)
            except Exception:  # a failed sweep must not end the loop; the next one retries
                log.exception("file sweep failed")
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        """Stop sweeping."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
