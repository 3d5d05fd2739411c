"""Video pages: the list with uploads, the player, the embed, and the media files they load."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from meatlizard.api.deps import CacheDep, DbDep, OptionalUser, SettingsDep, StorageDep
from meatlizard.api.edge_headers import content_security_policy
from meatlizard.auth.models import User
from meatlizard.core.errors import NotFound
from meatlizard.core.settings import Settings
from meatlizard.videos import service
from meatlizard.videos.captions import check_lang
from meatlizard.videos.models import READY, Video
from meatlizard.videos.routes import video_read
from meatlizard.videos.serving import check_path, object_response
from meatlizard.videos.transcode import SHARE_NAME
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)
VIEWER_COOKIE = "ml_viewer"
VIEWER_COOKIE_SECONDS = 365 * 24 * 3600


@router.get("/videos", response_class=HTMLResponse)
async def videos_page(
    request: Request, user: OptionalUser, db: DbDep, q: str = "", mine: bool = False
) -> Response:
    videos = await service.list_videos(db, viewer=user, query=q, mine=mine)
    names = await service.owner_names(db, videos)
    return render(
        request, "videos.html", user=user, section="videos", videos=videos, names=names,
        q=q, mine=mine,
    )  # fmt: skip


async def _watchable(db: DbDep, video_id: str, user: User | None) -> Video:
    return await service.readable(db, video_id=video_id, viewer=user)


@router.get("/v/{video_id}", response_class=HTMLResponse)
async def video_page(
    video_id: str, request: Request, user: OptionalUser, db: DbDep, settings: SettingsDep
) -> Response:
    return await _player(request, db, settings, video_id, user, embed=False)


@router.get("/v/{video_id}/embed", response_class=HTMLResponse)
async def video_embed(
    video_id: str, request: Request, user: OptionalUser, db: DbDep, settings: SettingsDep
) -> Response:
    return await _player(request, db, settings, video_id, user, embed=True)


async def _player(
    request: Request,
    db: DbDep,
    settings: Settings,
    video_id: str,
    user: User | None,
    *,
    embed: bool,
) -> Response:
    try:
        video = await _watchable(db, video_id, user)
    except NotFound as exc:
        return render(request, "not_found.html", user=user, status_code=404, message=str(exc))
    info = await video_read(request, db, video)
    response = render(
        request,
        "video_embed.html" if embed else "video_view.html",
        user=user,
        section="videos",
        video=video,
        info=info,
        is_owner=service.may_manage(video, user),
    )
    if embed:  # the embed exists to be framed by other sites
        response.headers["Content-Security-Policy"] = content_security_policy(settings, embed=True)
    if VIEWER_COOKIE not in request.cookies:
        response.set_cookie(
            VIEWER_COOKIE, secrets.token_urlsafe(12), max_age=VIEWER_COOKIE_SECONDS,
            samesite="lax", httponly=True,
        )  # fmt: skip
    return response


@router.post("/v/{video_id}/view")
async def count_view(
    video_id: str, request: Request, user: OptionalUser, db: DbDep, cache: CacheDep
) -> Response:
    """Count one view per viewer session (the player calls this when playback starts)."""
    video = await _watchable(db, video_id, user)
    viewer = request.cookies.get(VIEWER_COOKIE) or (
        f"user-{user.id}" if user else f"ip-{request.client.host if request.client else '?'}"
    )
    counted = await service.count_view(db, cache, video=video, viewer_key=viewer)
    return JSONResponse({"counted": counted, "view_count": video.view_count})


async def _ready(db: DbDep, video_id: str, user: User | None) -> Video:
    video = await _watchable(db, video_id, user)
    if video.status != READY:
        raise NotFound(f"this video is not ready yet ({video.status})")
    return video


@router.api_route("/v/{video_id}/hls/{path:path}", methods=["GET", "HEAD"])
async def hls_file(
    video_id: str, path: str, request: Request, user: OptionalUser, db: DbDep, storage: StorageDep
) -> Response:
    """Serve the master playlist, variant playlists and segments (Range supported)."""
    video = await _ready(db, video_id, user)
    key = f"{service.prefix_of(video.id)}hls/{check_path(path)}"
    return await object_response(request, storage, key)


@router.api_route("/v/{video_id}/{name}", methods=["GET", "HEAD"])
async def image_or_track(
    video_id: str, name: str, request: Request, user: OptionalUser, db: DbDep, storage: StorageDep
) -> Response:
    """Serve the poster, the thumbnail sprite, its WebVTT track and the preview MP4."""
    if name not in ("poster.jpg", "sprite.jpg", "thumbs.vtt", SHARE_NAME):
        raise NotFound("there is nothing at this address")
    video = await _ready(db, video_id, user)
    return await object_response(request, storage, f"{service.prefix_of(video.id)}{name}")


@router.api_route("/v/{video_id}/captions/{lang}.vtt", methods=["GET", "HEAD"])
async def caption_file(
    video_id: str, lang: str, request: Request, user: OptionalUser, db: DbDep, storage: StorageDep
) -> Response:
    """Serve one caption track."""
    video = await _watchable(db, video_id, user)
    key = service.caption_key(video.id, check_lang(lang))
    return await object_response(request, storage, key, content_type="text/vtt; charset=utf-8")
