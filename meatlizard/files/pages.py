"""File pages: the upload page, a file's page with preview, the raw download, ShareX config."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, Response

from meatlizard.api.deps import (
    CurrentUser,
    DbDep,
    FormUser,
    GuessesDep,
    OptionalUser,
    SessionMakerDep,
    SettingsDep,
    StorageDep,
)
from meatlizard.auth import service as auth_service
from meatlizard.auth.models import TokenKind, User
from meatlizard.core.errors import NotFound, TooManyRequests
from meatlizard.core.guesses import Guesses
from meatlizard.files import folders as folder_tree
from meatlizard.files import quotas, service, thumbnails
from meatlizard.files.deps import FilePolicyDep
from meatlizard.files.download import file_response
from meatlizard.files.metering import DownloadMeter
from meatlizard.files.options import EXPIRY_LABELS
from meatlizard.files.schemas import MAX_DOWNLOADS_LIMIT, MAX_PASSWORD_CHARS
from meatlizard.files.sniff import is_dangerous
from meatlizard.videos import service as videos
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)
# The forms' limits, the same numbers the API checks.
FIELD_LIMITS = {
    "max_password_chars": MAX_PASSWORD_CHARS,
    "max_downloads_limit": MAX_DOWNLOADS_LIMIT,
}


def preview_kind(content_type: str, name: str) -> str:
    """Return how the file page previews this type: image, audio, video, pdf, text or none."""
    if is_dangerous(content_type, name):
        return "none"
    for prefix, kind in (("image/", "image"), ("audio/", "audio"), ("video/", "video")):
        if content_type.startswith(prefix):
            return kind
    return {"application/pdf": "pdf", "text/plain": "text"}.get(content_type, "none")


@router.get("/files", response_class=HTMLResponse)
async def files_page(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    settings: SettingsDep,
    policy: FilePolicyDep,
    folder: str | None = None,
) -> Response:
    files, folders, usage, video_sources = [], [], None, {}
    folder = folder_tree.clean_folder(folder or "") or None  # empty: all files
    if user is not None:
        files = await folder_tree.list_files(db, owner=user, folder=folder)
        folders = await folder_tree.list_folders(db, owner=user)
        usage = await quotas.usage(db, user.id, policy)
        video_sources = await videos.videos_made_from(db, [f.id for f in files])
    looks = thumbnails.looks(files, viewer_id=user.id) if user is not None else {}
    chunk = settings.files_upload_chunk_bytes
    return render(
        request, "files.html", user=user, section="files", files=files, usage=usage,
        chunk_bytes=chunk, folders=folders, folder=folder, video_sources=video_sources,
        looks=looks, expiry_labels=EXPIRY_LABELS, **FIELD_LIMITS,
    )  # fmt: skip


@router.get("/f/{file_id}", response_class=HTMLResponse)
async def file_page(
    file_id: str, request: Request, user: OptionalUser, db: DbDep, guesses: GuessesDep
) -> Response:
    return await _view(request, user, db, guesses, file_id, password=None)


@router.post("/f/{file_id}", response_class=HTMLResponse)
async def file_unlock(
    file_id: str,
    request: Request,
    user: FormUser,
    db: DbDep,
    guesses: GuessesDep,
    password: Annotated[str, Form()] = "",
) -> Response:
    return await _view(request, user, db, guesses, file_id, password=password)


async def _view(
    request: Request,
    user: User | None,
    db: DbDep,
    guesses: Guesses,
    file_id: str,
    password: str | None,
) -> Response:
    try:
        item = await service.readable(
            db, file_id=file_id, viewer=user, password=password, guesses=guesses
        )
    except NotFound as exc:
        return render(request, "not_found.html", user=user, status_code=404, message=str(exc))
    except (service.PasswordRequired, TooManyRequests) as exc:
        wrong = password is not None
        throttled = isinstance(exc, TooManyRequests)
        return render(
            request,
            "file_password.html",
            user=user,
            section="files",
            file_id=file_id,
            wrong=wrong,
            error=str(exc) if throttled else "",
            status_code=429 if throttled else 403 if wrong else 200,
        )
    key = f"?key={service.access_key(item)}" if item.password_hash else ""
    is_owner = user is not None and user.id == item.owner_id
    folders = await folder_tree.list_folders(db, owner=user) if user and is_owner else []
    return render(
        request,
        "file_view.html",
        user=user,
        section="files",
        item=item,
        raw=f"/f/{item.id}/raw{key}",
        preview=preview_kind(item.content_type, item.name),
        is_owner=is_owner,
        folders=folders,
        expiry_labels=EXPIRY_LABELS,
        **FIELD_LIMITS,
    )


@router.api_route("/f/{file_id}/raw", methods=["GET", "HEAD"])
async def file_raw(
    file_id: str,
    request: Request,
    user: OptionalUser,
    db: DbDep,
    settings: SettingsDep,
    sessions: SessionMakerDep,
    storage: StorageDep,
    guesses: GuessesDep,
    key: str | None = None,
    download: bool = False,
    x_file_password: Annotated[str | None, Header()] = None,
) -> Response:
    """Download a file (Range, conditional requests); password by header or page key."""
    item = await service.readable(
        db, file_id=file_id, viewer=user, password=x_file_password, key=key, guesses=guesses
    )
    limited = item.max_downloads is not None and (user is None or user.id != item.owner_id)
    meter = DownloadMeter(sessions, item.id) if limited else None
    redirect = settings.files_redirect_seconds if settings.files_s3_redirect else None
    return await file_response(
        request, storage, item, download=download, redirect_seconds=redirect, meter=meter
    )


@router.post("/files/sharex.sxcu")
async def sharex_config(
    request: Request,
    user: CurrentUser,
    db: DbDep,
) -> Response:
    """Create an API token named ShareX and return a ShareX custom uploader using it.

    A fresh token rather than a placeholder: ShareX cannot ask for one, and a config that
    works once imported is the point. It is safe because only a logged-in POST with the
    CSRF token makes one (no link or other site can), the file is never cached, and the
    token is an ordinary API token named "ShareX" that the account page lists and revokes.
    """
    raw, _ = await auth_service.issue_token(db, user=user, kind=TokenKind.API, name="ShareX")
    base = str(request.base_url).rstrip("/")
    config = {
        "Version": "15.0.0",
        "Name": f"MeatLizard ({request.url.hostname})",
        "DestinationType": "ImageUploader, TextUploader, FileUploader",
        "RequestMethod": "POST",
        "RequestURL": f"{base}/api/v1/files",
        "Headers": {"Authorization": f"Bearer {raw}"},
        "Body": "MultipartFormData",
        "FileFormName": "file",
        "URL": "{json:url}",
        "DeletionURL": "",
        "ErrorMessage": "{json:detail}",
    }
    return Response(
        json.dumps(config, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="meatlizard.sxcu"',
            "Cache-Control": "no-store",  # it carries a live token
        },
    )
