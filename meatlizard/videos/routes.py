"""Videos API: create from an upload, status with progress, list, edit, delete, retry, captions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from meatlizard.api.deps import CurrentUser, DbDep, OptionalUser, StorageDep
from meatlizard.core.errors import TooLarge
from meatlizard.videos import service
from meatlizard.videos.captions import MAX_CAPTION_BYTES
from meatlizard.videos.deps import TranscodeStarterDep
from meatlizard.videos.models import READY, Video
from meatlizard.videos.schemas import (
    CaptionRead,
    VideoAccepted,
    VideoCreate,
    VideoRead,
    VideoUpdate,
)

router = APIRouter(prefix="/videos", tags=["videos"])


async def video_read(
    request: Request, db: DbDep, video: Video, owner: str | None = None
) -> VideoRead:
    """Describe a video with its absolute URLs and caption tracks."""
    base = str(request.base_url).rstrip("/")
    read = VideoRead.model_validate(video)
    read.progress = round(video.progress * 100, 1)
    read.eta_seconds = service.eta_seconds(video)
    read.owner = (
        owner if owner is not None else (await service.owner_names(db, [video]))[video.owner_id]
    )
    page = f"{base}/v/{video.id}"
    read.url, read.embed_url = page, f"{page}/embed"
    if video.status == READY:
        read.master_url = f"{page}/hls/master.m3u8"
        read.poster_url = f"{page}/poster.jpg"
        read.thumbnails_url = f"{page}/thumbs.vtt" if video.thumbnails else None
        read.share_url = f"{page}/share.mp4" if video.share_mp4 else None
    read.captions = [
        CaptionRead(lang=c.lang, label=c.label, size=c.size, url=f"{page}/captions/{c.lang}.vtt")
        for c in await service.list_captions(db, video.id)
    ]
    return read


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=VideoAccepted)
async def create_video(
    body: VideoCreate,
    request: Request,
    user: CurrentUser,
    db: DbDep,
    transcodes: TranscodeStarterDep,
) -> VideoAccepted:
    """Make a video from one of your finished uploads; transcoding starts in the background."""
    video = await service.create_video(db, owner=user, data=body)
    transcodes.start(video.id)
    base = str(request.base_url).rstrip("/")
    return VideoAccepted(id=video.id, status=video.status, url=f"{base}/v/{video.id}")


@router.get("", response_model=list[VideoRead])
async def list_videos(
    request: Request, user: OptionalUser, db: DbDep, q: str = "", mine: bool = False
) -> list[VideoRead]:
    """List public videos, or yours with `mine=true`; `q` searches titles."""
    videos = await service.list_videos(db, viewer=user, query=q, mine=mine)
    names = await service.owner_names(db, videos)
    return [await video_read(request, db, v, names[v.owner_id]) for v in videos]


@router.get("/{video_id}", response_model=VideoRead)
async def get_video(video_id: str, request: Request, user: OptionalUser, db: DbDep) -> VideoRead:
    """Return a video's metadata and transcode status (progress in percent, ETA, error)."""
    return await video_read(request, db, await service.readable(db, video_id=video_id, viewer=user))


@router.patch("/{video_id}", response_model=VideoRead)
async def update_video(
    video_id: str, body: VideoUpdate, request: Request, user: CurrentUser, db: DbDep
) -> VideoRead:
    """Change a video's title, description or visibility."""
    video = await service.managed(db, video_id=video_id, viewer=user)
    return await video_read(request, db, await service.update_video(db, video=video, data=body))


@router.delete("/{video_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_video(video_id: str, user: CurrentUser, db: DbDep, storage: StorageDep) -> None:
    """Delete a video and every rendition, image and caption it stored."""
    video = await service.managed(db, video_id=video_id, viewer=user)
    await service.delete_video(db, storage, video=video)


@router.post("/{video_id}/retry", status_code=status.HTTP_202_ACCEPTED, response_model=VideoRead)
async def retry_video(
    video_id: str,
    request: Request,
    user: CurrentUser,
    db: DbDep,
    transcodes: TranscodeStarterDep,
) -> VideoRead:
    """Queue a failed transcode again."""
    video = await service.managed(db, video_id=video_id, viewer=user)
    video = await service.retry(db, video=video)
    transcodes.start(video.id)
    return await video_read(request, db, video)


@router.put("/{video_id}/captions/{lang}", response_model=CaptionRead)
async def put_captions(
    video_id: str,
    lang: str,
    request: Request,
    user: CurrentUser,
    db: DbDep,
    storage: StorageDep,
    label: Annotated[str, Query(max_length=64)] = "",
) -> CaptionRead:
    """Upload (or replace) the WebVTT captions of one language; the body is the .vtt file."""
    video = await service.managed(db, video_id=video_id, viewer=user)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_CAPTION_BYTES:
            raise TooLarge(f"captions are larger than the limit of {MAX_CAPTION_BYTES} bytes")
    caption = await service.put_caption(
        db, storage, video=video, lang=lang, label=label, data=bytes(data)
    )
    url = f"{str(request.base_url).rstrip('/')}/v/{video.id}/captions/{caption.lang}.vtt"
    return CaptionRead(lang=caption.lang, label=caption.label, size=caption.size, url=url)


@router.delete("/{video_id}/captions/{lang}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_captions(
    video_id: str, lang: str, user: CurrentUser, db: DbDep, storage: StorageDep
) -> Response:
    """Remove the captions of one language."""
    video = await service.managed(db, video_id=video_id, viewer=user)
    await service.delete_caption(db, storage, video=video, lang=lang)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
