"""Download limits counted in bytes served, so that byte ranges cannot stretch N copies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from sqlalchemy import case, or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.errors import Gone
from meatlizard.files.models import StoredFile

USED_UP = "this file reached its download limit"
# A whole copy of an empty file costs one unit, so its limit still counts requests.
_UNIT = case((StoredFile.size > 0, StoredFile.size), else_=1)


def _copies(served: object) -> object:
    """The SQL for how many copies `served` bytes make, rounded up (what the pages show)."""
    return (served + _UNIT - 1) // _UNIT


class DownloadMeter:
    """Charges a file's limit of N whole copies with every byte a non-owner is sent.

    Each response reserves its length before it starts, atomically against N x size, so
    concurrent ranges cannot overshoot; bytes never handed to the server (the client went
    away, storage failed) are given back, so resuming one copy from where it broke still fits.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], file_id: str) -> None:
        self._sessions = sessions
        self._file_id = file_id

    async def _add(self, amount: int, *, bounded: bool) -> bool:
        served = StoredFile.bytes_served + amount
        query = update(StoredFile).where(StoredFile.id == self._file_id)
        if bounded:
            query = query.where(
                or_(
                    StoredFile.max_downloads.is_(None),
                    served <= StoredFile.max_downloads * _UNIT,
                )
            )
        async with self._sessions() as db:
            result = await db.execute(
                query.values(bytes_served=served, download_count=_copies(served))
            )
            await db.commit()
        return getattr(result, "rowcount", 0) == 1

    async def charge(self, amount: int) -> None:
        """Reserve `amount` bytes of the allowance, or raise Gone when they do not fit."""
        if not await self._add(max(amount, 1), bounded=True):
            raise Gone(USED_UP)

    async def refund(self, amount: int) -> None:
        """Give back bytes that were reserved but never sent."""
        if amount > 0:
            await self._add(-amount, bounded=False)

    async def metered(self, stream: AsyncIterator[bytes], charged: int) -> AsyncIterator[bytes]:
        """Yield the stream, then give back whatever part of `charged` was never yielded."""
        handed = 0
        try:
            async for chunk in stream:
                # Counted before the yield: a chunk the server took is a chunk served,
                # whatever the client does next.
                handed += len(chunk)
                yield chunk
        finally:
            if handed < charged:
                with anyio.CancelScope(shield=True):  # the request may be being cancelled
                    await self.refund(charged - handed)
