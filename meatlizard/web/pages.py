"""Home page and the sections whose features have not landed yet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from meatlizard.api.deps import OptionalUser
from meatlizard.web.render import NAV, render

router = APIRouter(include_in_schema=False)

COMING_SOON = {
    "links": "Short links with click statistics, expiry and passwords.",
}


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, user: OptionalUser) -> Response:
    return render(request, "home.html", user=user, section="home", sections=NAV)


def _coming_soon(key: str) -> object:
    async def page(request: Request, user: OptionalUser) -> Response:
        label = next(label for k, label, _ in NAV if k == key)
        return render(
            request,
            "coming_soon.html",
            user=user,
            section=key,
            title=label,
            blurb=COMING_SOON[key],
        )

    return page


for _key, _path in [
    ("links", "/links"),
]:
    router.add_api_route(_path, _coming_soon(_key), methods=["GET"], response_class=HTMLResponse)  # type: ignore[arg-type]
