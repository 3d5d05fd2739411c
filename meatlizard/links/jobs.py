"""The periodic sweep that removes links expired longer than the retention period."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.sweeper import Sweeper
from meatlizard.links.redirects import LinkResolver
from meatlizard.links.service import sweep_expired

SWEEP_INTERVAL_SECONDS = 3600.0


class LinkSweeper(Sweeper):
    """Deletes long-expired links every `interval_seconds` until stopped."""

    name = "link-sweeper"
    swept_what = "long-expired links"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        resolver: LinkResolver,
        interval_seconds: float = SWEEP_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(interval_seconds)
        self._sessions = sessions
        self._resolver = resolver

    async def sweep_once(self) -> int:
        """Run one sweep and return how many links went."""
        async with self._sessions() as db:
            slugs = await sweep_expired(db)
        for slug in slugs:
            await self._resolver.forget(slug)
        return len(slugs)
