"""Server-rendered pages share one layout; every page carries a CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from meatlizard.api.deps import CSRF_COOKIE, csrf_token_for, set_csrf_cookie, settings_of
from meatlizard.auth.models import User
from meatlizard.core.security import secure_cookie

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
templates = Jinja2Templates(directory=TEMPLATES_DIR)
# Templates ship with the package: compile each once, no file stat on every render.
templates.env.auto_reload = False

NAV = [
    ("chat", "Chat", "/chat"),
    ("paste", "Paste", "/paste"),
    ("links", "Links", "/links"),
    ("files", "Files", "/files"),
    ("videos", "Videos", "/videos"),
]


def render(
    request: Request,
    template: str,
    *,
    user: User | None,
    section: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page in the shared layout, issuing a CSRF cookie when the browser lacks one."""
    csrf = csrf_token_for(request)
    response = templates.TemplateResponse(
        request,
        template,
        {"user": user, "section": section, "nav": NAV, "csrf_token": csrf, **context},
        status_code=status_code,
    )
    if request.cookies.get(CSRF_COOKIE) != csrf:
        secure = secure_cookie(settings_of(request.app.state).cookie_secure, request.url.scheme)
        set_csrf_cookie(response, csrf, secure=secure)
    return response
