"""Read a link's click statistics back as days and top values."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.core.db import utcnow
from meatlizard.links.countries import country_flag, country_name
from meatlizard.links.models import Link, LinkStat
from meatlizard.links.schemas import Count, CountryCount, DayCount, LinkStats

TOP_VALUES = 10


def _top(counter: Counter[str]) -> list[Count]:
    return [Count(value=v, count=n) for v, n in counter.most_common(TOP_VALUES)]


def _countries(counter: Counter[str]) -> list[CountryCount]:
    return [
        CountryCount(value=v, count=n, name=country_name(v), flag=country_flag(v))
        for v, n in counter.most_common(TOP_VALUES)
    ]


async def link_stats(
    db: AsyncSession,
    link: Link,
    *,
    days: int,
    pending: tuple[int, int] = (0, 0),
    countries: bool = False,
) -> LinkStats:
    """Return the last `days` UTC days of clicks (every day listed, oldest first).

    Countries are listed only when a GeoIP database is configured (`countries`).
    """
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    rows = await db.scalars(
        select(LinkStat).where(LinkStat.link_id == link.id, LinkStat.day >= first)
    )
    people: Counter[object] = Counter()
    bots_by_day: Counter[object] = Counter()
    by_kind: dict[str, Counter[str]] = {
        k: Counter() for k in ("referrer", "browser", "os", "bot", "country")
    }
    for row in rows:
        if row.kind == "click":
            people[row.day] += row.count
        elif row.kind in by_kind:
            by_kind[row.kind][row.value] += row.count
            if row.kind == "bot":
                bots_by_day[row.day] += row.count
    return LinkStats(
        slug=link.slug,
        clicks=link.clicks + pending[0],
        bot_clicks=link.bot_clicks + pending[1],
        days=[
            DayCount(day=d, clicks=people[d], bots=bots_by_day[d])
            for d in (first + timedelta(days=i) for i in range(days))
        ],
        referrers=_top(by_kind["referrer"]),
        browsers=_top(by_kind["browser"]),
        os=_top(by_kind["os"]),
        bots=_top(by_kind["bot"]),
        countries=_countries(by_kind["country"]) if countries else None,
    )
