"""Videos as reportable content: a takedown hides the video at once, then removes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin.moderation import ContentKind, register_content_kind
from meatlizard.core.storage import ObjectStorage
from meatlizard.notifications.service import notify
from meatlizard.videos import service
from meatlizard.videos.models import TAKEN_DOWN, Video

if TYPE_CHECKING:
    from meatlizard.runtime import Services


async def _exists(db: AsyncSession, video_id: str) -> bool:
    video = await db.get(Video, video_id)
    return video is not None and video.status != TAKEN_DOWN


async def _take_down(db: AsyncSession, storage: ObjectStorage, video_id: str) -> None:
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


async def _remove(services: Services, video_id: str) -> None:
    """Delete the hidden video's renditions and row; a failure leaves it hidden, never served."""
    async with services.sessions() as db:
        video = await db.get(Video, video_id)
        if video is not None and video.status == TAKEN_DOWN:
            await service.delete_video(db, services.storage, video=video)


register_content_kind("video", ContentKind(_exists, _take_down, _remove))
