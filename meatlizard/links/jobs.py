"""The periodic sweep that removes links expired longer than the retention period."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.links.redirects import LinkResolver
from meatlizard.links.service import sweep_expired

log = logging.getLogger(__name__)
SWEEP_INTERVAL_SECONDS = 3600.0


class LinkSweeper:
    """Deletes long-expired links every `interval_seconds` until stopped."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        resolver: LinkResolver,
        interval_seconds: float = SWEEP_INTERVAL_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._resolver = resolver
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin sweeping in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="link-sweeper")

    async def sweep_once(self) -> int:
        """Run one sweep and return how many links went."""
        async with self._sessions() as db:
            slugs = await sweep_expired(db)
        for slug in slugs:
            await self._resolver.forget(slug)
        return len(slugs)

    async def _run(self) -> None:
        while True:
            try:
                swept = await self.sweep_once()
                if swept:
                    log.info("swept %d long-expired links", swept)
            except Exception:  # a failed sweep must not end the loop; the next one retries
                log.exception("link sweep failed")
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        """Stop sweeping."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
