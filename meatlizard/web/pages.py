"""The home page: one card per section."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from meatlizard.api.deps import OptionalUser
from meatlizard.web.render import NAV, render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: OptionalUser) -> Response:
    return render(request, "home.html", user=user, section="home", sections=NAV)
