"""Files as reportable content: a takedown hides the file at once, then removes it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.admin.moderation import ContentKind
from meatlizard.core.storage import ObjectStorage
from meatlizard.files import service
from meatlizard.files.models import READY, StoredFile
from meatlizard.notifications.service import notify

TAKEN_DOWN = "taken_down"  # a status `readable` refuses, so the file is gone at commit


async def _exists(db: AsyncSession, file_id: str) -> bool:
    item = await db.get(StoredFile, file_id)
    return item is not None and item.status == READY


async def _take_down(db: AsyncSession, file_id: str) -> None:
    item = await db.get(StoredFile, file_id)
    if item is None or item.status == TAKEN_DOWN:
        return
    item.status = TAKEN_DOWN
    notify(
        db,
        user_id=item.owner_id,
        kind="takedown",
        message="One of your files was removed by the moderators after a report.",
    )


def content_kind(sessions: async_sessionmaker[AsyncSession], storage: ObjectStorage) -> ContentKind:
    """Describe files to moderation; the hidden file is removed once the takedown commits."""

    async def remove(file_id: str) -> None:
        """Delete the hidden file's object and row; a failure leaves it hidden, never served."""
        async with sessions() as db:
            item = await db.get(StoredFile, file_id)
            if item is not None and item.status == TAKEN_DOWN:
                await service.delete_file(db, storage, item=item)

    return ContentKind(_exists, _take_down, remove)
