"""A user's links and their click statistics in export, anonymise and delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.gdpr.providers import PersonalData, Scrub
from meatlizard.links.models import SLUG_MAX_LENGTH, Link, LinkStat
from meatlizard.links.redirects import cache_key


async def _links(db: AsyncSession, user: User) -> list[Link]:
    query = select(Link).where(Link.owner_id == user.id).order_by(Link.id)
    return list(await db.scalars(query))


async def _stats(db: AsyncSession, links: list[Link]) -> list[LinkStat]:
    ids = [link.id for link in links]
    if not ids:
        return []
    query = select(LinkStat).where(LinkStat.link_id.in_(ids)).order_by(LinkStat.day)
    return list(await db.scalars(query))


async def _export(db: AsyncSession, user: User) -> list[dict[str, Any]]:
    links = await _links(db, user)
    stats: dict[int, list[dict[str, Any]]] = {link.id: [] for link in links}
    for row in await _stats(db, links):
        stats[row.link_id].append(
            {"day": row.day.isoformat(), "kind": row.kind, "value": row.value, "count": row.count}
        )
    return [
        {
            "slug": link.slug,
            "url": link.target_url,
            "title": link.title,
            "tags": link.tags,
            "enabled": link.enabled,
            "taken_down": link.taken_down,
            "has_password": link.password_hash is not None,
            "max_clicks": link.max_clicks,
            "clicks": link.clicks,
            "bot_clicks": link.bot_clicks,
            "created_at": link.created_at.isoformat(),
            "expires_at": link.expires_at.isoformat() if link.expires_at else None,
            "stats": stats[link.id],
        }
        for link in links
    ]


async def _anonymize(db: AsyncSession, user: User, scrub: Scrub) -> int:
    """Rewrite the name out of slugs, targets, titles, tags and statistics values."""
    changed = 0
    links = await _links(db, user)
    for link in links:
        before = (link.slug, link.target_url, link.title, link.tags)
        link.slug = scrub(link.slug)[:SLUG_MAX_LENGTH]
        link.target_url, link.title = scrub(link.target_url), scrub(link.title)[:200]
        link.tags = [scrub(tag) for tag in link.tags]
        changed += (link.slug, link.target_url, link.title, link.tags) != before
    rows = await _stats(db, links)
    kept = {(r.link_id, r.day, r.kind, r.value): r for r in rows}
    for row in rows:
        value = scrub(row.value)[:200]
        if value == row.value:
            continue
        twin = kept.get((row.link_id, row.day, row.kind, value))
        if twin is not None:  # the rewritten value already has a row: merge the counts
            twin.count += row.count
            await db.delete(row)
        else:
            del kept[(row.link_id, row.day, row.kind, row.value)]
            row.value = value
            kept[(row.link_id, row.day, row.kind, value)] = row
        changed += 1
    return changed


async def _count(db: AsyncSession, user: User) -> int:
    owned = select(func.count()).select_from(Link).where(Link.owner_id == user.id)
    return int(await db.scalar(owned) or 0)


async def _cached(db: AsyncSession, user: User) -> list[str]:
    return [cache_key(link.slug) for link in await _links(db, user)]


PERSONAL_DATA = PersonalData(
    "links", _export, _anonymize, _count, cached=_cached
)  # registered by the runtime
