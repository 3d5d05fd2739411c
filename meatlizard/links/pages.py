"""Link pages: the shortener form with your links, and a link's statistics and settings."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from meatlizard.api.deps import DbDep, OptionalUser, SettingsDep
from meatlizard.core.errors import NotFound
from meatlizard.links import service
from meatlizard.links.deps import LinksDep
from meatlizard.links.schemas import DayCount
from meatlizard.links.stats import link_stats
from meatlizard.links.urls import link_read, public_base
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)
RECENT_LINKS = 20
CHART_DAYS = 30
CHART_WIDTH, CHART_HEIGHT = 600, 120  # SVG user units


@dataclass(frozen=True)
class Bar:
    """One day's bar in the clicks chart."""

    x: float
    y: float
    width: float
    height: float
    day: str
    clicks: int
    bots: int
    bot_height: float  # stacked on top of the people's part, drawn apart


def chart_top(days: list[DayCount]) -> int:
    """Return the busiest day's clicks, people and bots together (the chart's scale)."""
    return max([d.clicks + d.bots for d in days] + [1])


def chart_bars(days: list[DayCount]) -> list[Bar]:
    """Lay out one bar per day (people, then bots above), scaled to the busiest day."""
    top = chart_top(days)
    width = CHART_WIDTH / max(len(days), 1)
    bars = []
    for i, d in enumerate(days):
        height = CHART_HEIGHT * d.clicks / top
        bars.append(
            Bar(
                i * width,
                CHART_HEIGHT - height,
                width * 0.8,
                height,
                d.day.isoformat(),
                d.clicks,
                d.bots,
                CHART_HEIGHT * d.bots / top,
            )
        )
    return bars


@router.get("/links", response_class=HTMLResponse)
async def links_page(
    request: Request, user: OptionalUser, db: DbDep, settings: SettingsDep
) -> Response:
    links = []
    if user is not None:
        base = public_base(settings, request)
        owned = await service.list_links(db, owner=user)
        links = [link_read(base, link) for link in owned[:RECENT_LINKS]]
    return render(request, "links.html", user=user, section="links", links=links)


@router.get("/links/{slug}/stats", response_class=HTMLResponse)
async def stats_page(
    slug: str,
    request: Request,
    user: OptionalUser,
    db: DbDep,
    settings: SettingsDep,
    resolver: LinksDep,
) -> Response:
    if user is None:
        return render(
            request,
            "not_found.html",
            user=None,
            status_code=404,
            message="Log in to see your link's statistics.",
        )
    try:
        link = await service.owned_link(db, slug=slug, user=user)
    except NotFound as exc:
        return render(request, "not_found.html", user=user, status_code=404, message=str(exc))
    stats = await link_stats(
        db,
        link,
        days=CHART_DAYS,
        pending=resolver.clicks.pending(link.id),
        countries=resolver.clicks.countries is not None,
    )
    return render(
        request,
        "link_stats.html",
        user=user,
        section="links",
        link=link_read(public_base(settings, request), link),
        stats=stats,
        bars=chart_bars(stats.days),
        chart_top=chart_top(stats.days),
        chart=(CHART_WIDTH, CHART_HEIGHT),
    )
