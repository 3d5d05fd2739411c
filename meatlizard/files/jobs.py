"""The periodic sweep that removes expired files and abandoned uploads, objects first."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.storage import ObjectStorage
from meatlizard.core.sweeper import Sweeper
from meatlizard.files.service import sweep

SWEEP_INTERVAL_SECONDS = 300.0


class FileSweeper(Sweeper):
    """Deletes expired files and uploads every `interval_seconds` until stopped."""

    name = "file-sweeper"
    swept_what = "expired files and uploads"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: ObjectStorage,
        interval_seconds: float = SWEEP_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(interval_seconds)
        self._sessions = sessions
        self._storage = storage

    async def sweep_once(self) -> int:
        """Run one sweep and return how many files went."""
        async with self._sessions() as db:
            return await sweep(db, self._storage)
