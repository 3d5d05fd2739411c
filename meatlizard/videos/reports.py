"""Videos as reportable content: a takedown hides the video at once, then removes it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.admin.moderation import ContentKind
from meatlizard.core.storage import ObjectStorage
from meatlizard.notifications.service import notify
from meatlizard.videos import service
from meatlizard.videos.models import TAKEN_DOWN, Video


async def _exists(db: AsyncSession, video_id: str) -> bool:
    video = await db.get(Video, video_id)
    return video is not None and video.status != TAKEN_DOWN


async def _take_down(db: AsyncSession, video_id: str) -> None:
    video = await db.get(Video, video_id)
    if video is None or video.status == TAKEN_DOWN:
        return
    video.status = TAKEN_DOWN  # the player, HLS and lists refuse it from this commit on
    notify(
        db,
        user_id=video.owner_id,
        kind="takedown",
        message=f"Your video {video.title!r} was removed by the moderators after a report.",
    )


def content_kind(sessions: async_sessionmaker[AsyncSession], storage: ObjectStorage) -> ContentKind:
    """Describe videos to moderation; the hidden video is removed once the takedown commits."""

    async def remove(video_id: str) -> None:
        """Delete the renditions and row; a failure leaves the video hidden, never served."""
        async with sessions() as db:
            video = await db.get(Video, video_id)
            if video is not None and video.status == TAKEN_DOWN:
                await service.delete_video(db, storage, video=video)

    return ContentKind(_exists, _take_down, remove)
