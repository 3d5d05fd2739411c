"""The home page (one card per section) and the site icon."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from meatlizard.api.deps import OptionalUser
from meatlizard.web.render import NAV, STATIC_DIR, render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: OptionalUser) -> Response:
    return render(request, "home.html", user=user, section="home", sections=NAV)


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Serve the site icon where browsers and bots look for it first."""
    return FileResponse(
        STATIC_DIR / "img" / "favicon.svg",
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )
