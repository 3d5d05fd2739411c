"""Objects that no file row names (a crash between writing one and committing its row) go.

A one-shot upload writes its object before the row commits, so a process killed between
the two leaves an object nobody can reach, which no quota counts. The reconcile lists the
files folder and deletes objects that no row names once they are older than a grace period,
which leaves uploads that are committing right now alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.db import utcnow
from meatlizard.core.storage import ObjectStorage
from meatlizard.core.sweeper import Sweeper
from meatlizard.files.models import StoredFile

FILES_PREFIX = "files/"
KEYS_PER_QUERY = 500  # storage keys looked up per statement
RECONCILE_INTERVAL_SECONDS = 3600.0


async def remove_orphans(
    db: AsyncSession, storage: ObjectStorage, *, grace: timedelta, now: datetime | None = None
) -> list[str]:
    """Delete objects under files/ older than `grace` that no row names; return their keys."""
    cutoff = (now or utcnow()) - grace
    candidates = [info.key for info in await storage.list(FILES_PREFIX) if info.modified <= cutoff]
    orphans: list[str] = []
    for start in range(0, len(candidates), KEYS_PER_QUERY):
        batch = candidates[start : start + KEYS_PER_QUERY]
        named = set(
            await db.scalars(
                select(StoredFile.storage_key).where(StoredFile.storage_key.in_(batch))
            )
        )
        orphans += [key for key in batch if key not in named]
    await db.commit()  # no transaction stays open while objects are deleted
    for key in orphans:
        await storage.delete(key)
    return orphans


class OrphanReconciler(Sweeper):
    """Removes objects without a row every `interval_seconds` until stopped."""

    name = "file-reconciler"
    swept_what = "objects without a file row"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        storage: ObjectStorage,
        grace: timedelta,
        interval_seconds: float = RECONCILE_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(interval_seconds)
        self._sessions = sessions
        self._storage = storage
        self._grace = grace

    async def sweep_once(self) -> int:
        """Run one reconcile and return how many objects went."""
        async with self._sessions() as db:
            return len(await remove_orphans(db, self._storage, grace=self._grace))
