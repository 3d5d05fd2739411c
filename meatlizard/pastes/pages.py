"""Paste pages: the editor, the highlighted view and the raw text."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.api.deps import DbDep, FormUser, OptionalUser
from meatlizard.auth.models import User
from meatlizard.core.errors import NotFound
from meatlizard.pastes import service
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)
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


def _highlighted(content: str, language: str) -> Markup:
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    formatter = HtmlFormatter(linenos="table", anchorlinenos=True, lineanchors="L", cssclass="hl")
    return Markup(highlight(content, lexer, formatter))


@router.get("/paste", response_class=HTMLResponse)
async def paste_editor(request: Request, user: OptionalUser) -> Response:
    return render(request, "paste.html", user=user, section="paste", languages=LANGUAGES)


@router.get("/p/{paste_id}", response_class=HTMLResponse)
async def paste_view(paste_id: str, request: Request, user: OptionalUser, db: DbDep) -> Response:
    return await _view(request, user, db, paste_id, password=None)


@router.post("/p/{paste_id}", response_class=HTMLResponse)
async def paste_unlock(
    paste_id: str,
    request: Request,
    user: FormUser,
    db: DbDep,
    password: Annotated[str, Form()] = "",
) -> Response:
    return await _view(request, user, db, paste_id, password=password)


async def _view(
    request: Request, user: User | None, db: AsyncSession, paste_id: str, password: str | None
) -> Response:
    try:
        paste = await service.read_paste(db, paste_id=paste_id, viewer=user, password=password)
    except NotFound as exc:
        return render(request, "not_found.html", user=user, status_code=404, message=str(exc))
    except service.PasswordRequired:
        return render(
            request,
            "paste_password.html",
            user=user,
            section="paste",
            paste_id=paste_id,
            wrong=password is not None,
            status_code=403 if password is not None else 200,
        )
    return render(
        request,
        "paste_view.html",
        user=user,
        section="paste",
        paste=paste,
        code=_highlighted(paste.content, paste.language),
    )


@router.get("/p/{paste_id}/raw")
async def paste_raw(
    paste_id: str,
    user: OptionalUser,
    db: DbDep,
    x_paste_password: Annotated[str | None, Header()] = None,
) -> Response:
    paste = await service.read_paste(db, paste_id=paste_id, viewer=user, password=x_paste_password)
    return PlainTextResponse(paste.content, media_type="text/plain; charset=utf-8")
