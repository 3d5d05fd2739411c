"""Paste pages: the editor, the highlighted view and the raw text."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.api.deps import (
    DbDep,
    FormUser,
    GuessesDep,
    OptionalUser,
    kept_csrf_token,
)
from meatlizard.auth.models import User
from meatlizard.core.errors import NotFound, TooManyRequests
from meatlizard.core.guesses import Guesses
from meatlizard.pastes import service
from meatlizard.pastes.caching import not_modified, page_headers, raw_headers
from meatlizard.pastes.content import download_name
from meatlizard.pastes.deps import PastesDep
from meatlizard.pastes.highlight import content_version
from meatlizard.pastes.hot import PasteCache
from meatlizard.pastes.models import Paste
from meatlizard.pastes.rendering import stored_lines
from meatlizard.web.qr import qr_svg
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)
QR_SCALE = 4  # pixels per module
QR_BORDER = 2  # quiet-zone modules
QR_CACHE = {"Cache-Control": "private, max-age=3600"}
LANGUAGES = [
    "text",
    "python",
    "javascript",
    "typescript",
    "bash",
    "json",
    "yaml",
    "html",
    "css",
    "sql",
    "c",
    "cpp",
    "rust",
    "go",
    "java",
    "markdown",
    "diff",
    "toml",
]


@router.get("/paste", response_class=HTMLResponse)
async def paste_editor(request: Request, user: OptionalUser) -> Response:
    return render(request, "paste.html", user=user, section="paste", languages=LANGUAGES)


@router.get("/p/{paste_id}", response_class=HTMLResponse)
async def paste_view(
    paste_id: str,
    request: Request,
    user: OptionalUser,
    db: DbDep,
    pastes: PastesDep,
    guesses: GuessesDep,
) -> Response:
    return await _view(request, user, db, pastes, guesses, paste_id, password=None)


@router.post("/p/{paste_id}", response_class=HTMLResponse)
async def paste_unlock(
    paste_id: str,
    request: Request,
    user: FormUser,
    db: DbDep,
    pastes: PastesDep,
    guesses: GuessesDep,
    password: Annotated[str, Form()] = "",
) -> Response:
    return await _view(request, user, db, pastes, guesses, paste_id, password=password)


async def _view(
    request: Request,
    user: User | None,
    db: AsyncSession,
    pastes: PasteCache,
    guesses: Guesses,
    paste_id: str,
    password: str | None,
) -> Response:
    since = pastes.started()
    try:
        paste = await service.read_paste(
            db,
            paste_id=paste_id,
            viewer=user,
            password=password,
            guesses=guesses,
            rendered=True,
            confirmed=password is not None,  # a POST from the confirm or password form
        )
    except NotFound as exc:
        return render(request, "not_found.html", user=user, status_code=404, message=str(exc))
    except service.ConfirmBurn:
        response = render(request, "paste_burn.html", user=user, section="paste", paste_id=paste_id)
        response.headers["Cache-Control"] = "no-store"
        return response
    except (service.PasswordRequired, TooManyRequests) as exc:
        throttled = isinstance(exc, TooManyRequests)
        return render(
            request,
            "paste_password.html",
            user=user,
            section="paste",
            paste_id=paste_id,
            wrong=password is not None,
            error=str(exc) if throttled else "",
            status_code=429 if throttled else 403 if password is not None else 200,
        )
    version = content_version(paste.content, paste.language)
    viewer = str(user.id) if user else ""
    headers = page_headers(paste, version, viewer, kept_csrf_token(request))
    if (unchanged := not_modified(request, headers)) is not None:
        return unchanged
    code = await stored_lines(db, paste, version)
    await pastes.remember(paste, code, since=since)  # for the next reader (fast.py)
    response = render(
        request,
        "paste_view.html",
        user=user,
        section="paste",
        paste=paste,
        code=code,
        filename=download_name(paste.id, paste.title, paste.language, encrypted=False),
        file_download=download_name(paste.id, paste.title, paste.language, paste.encrypted),
        can_delete=_can_delete(user, paste),
    )
    response.headers.update(headers)
    return response


def _current_lines(paste: Paste) -> str | None:
    """Return the stored highlighting if it is of the current text (None: none to cache)."""
    if paste.rendered_version != content_version(paste.content, paste.language):
        return None
    return paste.rendered


def _can_delete(user: User | None, paste: Paste) -> bool:
    return user is not None and (user.id == paste.owner_id or user.is_admin)


@router.get("/p/{paste_id}/raw")
async def paste_raw(
    paste_id: str,
    request: Request,
    user: OptionalUser,
    db: DbDep,
    pastes: PastesDep,
    guesses: GuessesDep,
    x_paste_password: Annotated[str | None, Header()] = None,
) -> Response:
    since = pastes.started()
    paste = await service.read_paste(
        db,
        paste_id=paste_id,
        viewer=user,
        password=x_paste_password,
        guesses=guesses,
        rendered=True,
    )
    await pastes.remember(paste, _current_lines(paste), since=since)
    headers = raw_headers(paste)
    if (unchanged := not_modified(request, headers)) is not None:
        return unchanged
    return PlainTextResponse(paste.content, media_type="text/plain; charset=utf-8", headers=headers)


@router.get("/p/{paste_id}/download")
async def paste_download(
    paste_id: str,
    request: Request,
    user: OptionalUser,
    db: DbDep,
    guesses: GuessesDep,
    x_paste_password: Annotated[str | None, Header()] = None,
) -> Response:
    """Serve the paste as a file named after its title with its language's extension."""
    paste = await service.read_paste(
        db, paste_id=paste_id, viewer=user, password=x_paste_password, guesses=guesses
    )
    name = download_name(paste.id, paste.title, paste.language, paste.encrypted)
    headers = raw_headers(paste)
    if (unchanged := not_modified(request, headers)) is not None:
        return unchanged
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return PlainTextResponse(paste.content, media_type="text/plain; charset=utf-8", headers=headers)


@router.get("/p/{paste_id}/qr.svg")
async def paste_qr(paste_id: str, request: Request, user: OptionalUser, db: DbDep) -> Response:
    """Serve a QR code of the paste's address (it never reads, so never burns, the paste)."""
    paste = await service.find_paste(db, paste_id=paste_id, viewer=user)
    url = f"{str(request.base_url).rstrip('/')}/p/{paste.id}"
    svg = qr_svg(url, scale=QR_SCALE, border=QR_BORDER)
    return Response(svg, media_type="image/svg+xml", headers=QR_CACHE)
