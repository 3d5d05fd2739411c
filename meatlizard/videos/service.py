"""Video logic: create from a file, look up, list, edit, delete, retry, captions and views."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.core.cache import Cache
from meatlizard.core.db import utcnow
from meatlizard.core.errors import Conflict, NotFound
from meatlizard.core.storage import ObjectStorage
from meatlizard.files import models as file_models
from meatlizard.files import service as files
from meatlizard.videos.captions import check_lang, validate_vtt
from meatlizard.videos.models import FAILED, QUEUED, TAKEN_DOWN, Video, VideoCaption
from meatlizard.videos.schemas import VideoCreate, VideoUpdate

GONE = "no such video (it may be private or deleted)"
VIEW_SESSION_SECONDS = 6 * 3600  # one viewer counts once per this window
LIST_LIMIT = 100


def prefix_of(video_id: str) -> str:
    """Return the storage prefix holding everything of a video."""
    return f"videos/{video_id}/"


def caption_key(video_id: str, lang: str) -> str:
    """Return where a caption track is stored."""
    return f"{prefix_of(video_id)}captions/{lang}.vtt"


async def purge_renditions(storage: ObjectStorage, video_id: str) -> None:
    """Delete every transcode output of a video (captions stay)."""
    captions = f"{prefix_of(video_id)}captions/"
    for info in await storage.list(prefix_of(video_id)):
        if not info.key.startswith(captions):
            await storage.delete(info.key)


async def create_video(db: AsyncSession, *, owner: User, data: VideoCreate) -> Video:
    """Queue a video made from one of the owner's finished uploads."""
    source = await files.get_owned(db, file_id=data.file_id, owner=owner)
    if source.status != file_models.READY:
        raise Conflict("that upload is not finished yet; finish it, then make the video")
    title = data.title or source.name.rsplit(".", 1)[0] or source.name
    video = Video(
        owner_id=owner.id,
        file_id=source.id,
        title=title[:200],
        description=data.description or "",
        visibility=data.visibility or "unlisted",
        renditions=[],
    )
    db.add(video)
    await db.commit()
    return video


async def videos_made_from(db: AsyncSession, file_ids: list[str]) -> dict[str, str]:
    """Return, for the files among `file_ids` that are a video's source, that video's id."""
    if not file_ids:
        return {}
    rows = await db.execute(select(Video.file_id, Video.id).where(Video.file_id.in_(file_ids)))
    return {file_id: video_id for file_id, video_id in rows.all() if file_id is not None}


def may_manage(video: Video, viewer: User | None) -> bool:
    """Return whether the viewer owns the video (or is an admin)."""
    return viewer is not None and (viewer.id == video.owner_id or viewer.is_admin)


async def readable(db: AsyncSession, *, video_id: str, viewer: User | None) -> Video:
    """Return a video the viewer may watch; private ones exist only for their owner."""
    video = await db.get(Video, video_id)
    if video is None or video.status == TAKEN_DOWN:
        raise NotFound(GONE)
    if video.visibility == "private" and not may_manage(video, viewer):
        raise NotFound(GONE)
    return video


async def managed(db: AsyncSession, *, video_id: str, viewer: User) -> Video:
    """Return a video the viewer may change; others' videos do not exist."""
    video = await db.get(Video, video_id)
    if video is None or not may_manage(video, viewer):
        raise NotFound(GONE)
    return video


async def list_videos(
    db: AsyncSession, *, viewer: User | None, query: str = "", mine: bool = False
) -> list[Video]:
    """List public videos (or the viewer's own), newest first, optionally matching a title."""
    statement = select(Video).where(Video.status != TAKEN_DOWN)
    if mine:
        if viewer is None:
            return []
        statement = statement.where(Video.owner_id == viewer.id)
    else:
        statement = statement.where(Video.visibility == "public")
    if query.strip():
        words = query.strip().replace("\\", "").replace("%", "").replace("_", "")
        statement = statement.where(Video.title.ilike(f"%{words}%"))
    statement = statement.order_by(Video.created_at.desc()).limit(LIST_LIMIT)
    return list(await db.scalars(statement))


async def videos_for_my_stuff(db: AsyncSession, *, user: User, everyone: bool) -> list[Video]:
    """List the user's videos (or, with `everyone`, all videos) in any state, newest first."""
    query = select(Video).order_by(Video.created_at.desc())
    if not everyone:
        query = query.where(Video.owner_id == user.id)
    return list(await db.scalars(query))


async def owner_names(db: AsyncSession, videos: list[Video]) -> dict[int, str]:
    """Return user id -> username for the owners of these videos."""
    ids = {video.owner_id for video in videos}
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


async def update_video(db: AsyncSession, *, video: Video, data: VideoUpdate) -> Video:
    """Change the title, description or visibility."""
    if data.title is not None:
        video.title = data.title
    if data.description is not None:
        video.description = data.description
    if data.visibility is not None:
        video.visibility = data.visibility
    await db.commit()
    return video


async def delete_video(db: AsyncSession, storage: ObjectStorage, *, video: Video) -> None:
    """Delete every stored object of the video, then its row (captions go with it)."""
    for info in await storage.list(prefix_of(video.id)):
        await storage.delete(info.key)
    await db.delete(video)
    await db.commit()


async def retry(db: AsyncSession, *, video: Video) -> Video:
    """Queue a failed transcode again."""
    result = await db.execute(
        update(Video)
        .where(Video.id == video.id, Video.status == FAILED)
        .values(status=QUEUED, error=None, progress=0.0, attempts=0, claimed_by=None)
    )
    await db.commit()
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict(f"only a failed transcode can be retried; this one is {video.status}")
    await db.refresh(video)
    return video


def eta_seconds(video: Video, now: datetime | None = None) -> float | None:
    """Estimate the seconds left from the progress so far, or None before it is known."""
    if video.status != "processing" or video.started_at is None or video.progress <= 0:
        return None
    elapsed = ((now or utcnow()) - video.started_at).total_seconds()
    return round(max(0.0, elapsed * (1 - video.progress) / video.progress), 1)


async def count_view(db: AsyncSession, cache: Cache, *, video: Video, viewer_key: str) -> bool:
    """Count a view once per viewer session; return whether this one counted."""
    fresh = await cache.set_if_absent(
        f"video-view:{video.id}:{viewer_key}", b"1", ttl_seconds=VIEW_SESSION_SECONDS
    )
    if fresh:
        await db.execute(
            update(Video).where(Video.id == video.id).values(view_count=Video.view_count + 1)
        )
        await db.commit()
        await db.refresh(video)
    return fresh


async def list_captions(db: AsyncSession, video_id: str) -> list[VideoCaption]:
    """Return a video's caption tracks by language."""
    query = select(VideoCaption).where(VideoCaption.video_id == video_id)
    return list(await db.scalars(query.order_by(VideoCaption.lang)))


async def put_caption(
    db: AsyncSession, storage: ObjectStorage, *, video: Video, lang: str, label: str, data: bytes
) -> VideoCaption:
    """Validate and store (or replace) the caption track of one language."""
    check_lang(lang)
    text = validate_vtt(data)
    body = text.encode()
    await storage.put_bytes(caption_key(video.id, lang), body, content_type="text/vtt")
    existing = await db.scalar(
        select(VideoCaption).where(VideoCaption.video_id == video.id, VideoCaption.lang == lang)
    )
    try:
        caption = existing or VideoCaption(video_id=video.id, lang=lang)
        caption.label, caption.size = (label.strip() or lang)[:64], len(body)
        db.add(caption)
        await db.commit()
    except BaseException:
        if existing is None:
            await storage.delete(caption_key(video.id, lang))
        raise
    return caption


async def delete_caption(
    db: AsyncSession, storage: ObjectStorage, *, video: Video, lang: str
) -> None:
    """Remove one caption track."""
    caption = await db.scalar(
        select(VideoCaption).where(VideoCaption.video_id == video.id, VideoCaption.lang == lang)
    )
    if caption is None:
        raise NotFound(f"this video has no {lang!r} captions")
    await storage.delete(caption_key(video.id, lang))
    await db.delete(caption)
    await db.commit()
