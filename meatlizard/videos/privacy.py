"""A user's videos in export, anonymise and delete (the source upload is a file of theirs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.gdpr.providers import PersonalData, Scrub
from meatlizard.videos.models import Video, VideoCaption
from meatlizard.videos.service import prefix_of


async def _videos(db: AsyncSession, user: User) -> list[Video]:
    query = select(Video).where(Video.owner_id == user.id).order_by(Video.created_at)
    return list(await db.scalars(query))


async def _export(db: AsyncSession, user: User) -> list[dict[str, Any]]:
    videos = await _videos(db, user)
    captions = await db.scalars(
        select(VideoCaption).where(VideoCaption.video_id.in_([v.id for v in videos]))
    )
    langs: dict[str, list[str]] = {}
    for caption in captions:
        langs.setdefault(caption.video_id, []).append(caption.lang)
    return [
        {
            "id": v.id,
            "title": v.title,
            "description": v.description,
            "visibility": v.visibility,
            "status": v.status,
            "source_file_id": v.file_id,
            "duration_seconds": v.duration_seconds,
            "view_count": v.view_count,
            "captions": sorted(langs.get(v.id, [])),
            "created_at": v.created_at.isoformat(),
        }
        for v in videos
    ]


async def _anonymize(db: AsyncSession, user: User, scrub: Scrub) -> int:
    """Rewrite the name out of titles and descriptions."""
    changed = 0
    for video in await _videos(db, user):
        title, description = scrub(video.title)[:200], scrub(video.description)
        if (title, description) != (video.title, video.description):
            video.title, video.description = title, description
            changed += 1
    return changed


async def _count(db: AsyncSession, user: User) -> int:
    owned = select(func.count()).select_from(Video).where(Video.owner_id == user.id)
    return int(await db.scalar(owned) or 0)


async def _folders(db: AsyncSession, user: User) -> list[str]:
    return [prefix_of(v.id) for v in await _videos(db, user)]


PERSONAL_DATA = PersonalData(
    "videos", _export, _anonymize, _count, folders=_folders
)  # registered by the runtime
