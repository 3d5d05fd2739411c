"""The periodic sweep that removes expired pastes from the database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.sweeper import Sweeper
from meatlizard.pastes.service import sweep_expired

SWEEP_INTERVAL_SECONDS = 300.0


class PasteSweeper(Sweeper):
    """Deletes expired pastes every `interval_seconds` until stopped."""

    name = "paste-sweeper"
    swept_what = "expired pastes"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        interval_seconds: float = SWEEP_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(interval_seconds)
        self._sessions = sessions

    async def sweep_once(self) -> int:
        """Run one sweep and return how many pastes went."""
        async with self._sessions() as db:
            return await sweep_expired(db)
