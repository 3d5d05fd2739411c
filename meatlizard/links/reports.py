"""Links as reportable content: a takedown disables the link for good and tells its owner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin.moderation import ContentKind
from meatlizard.links.models import Link, TakenDownSlug
from meatlizard.links.redirects import LinkResolver
from meatlizard.notifications.service import notify


async def _find(db: AsyncSession, slug: str) -> Link | None:
    link: Link | None = await db.scalar(select(Link).where(Link.slug == slug))
    return link


async def _exists(db: AsyncSession, slug: str) -> bool:
    return await _find(db, slug) is not None


async def _take_down(db: AsyncSession, slug: str) -> None:
    link = await _find(db, slug)
    if link is None or link.taken_down:
        return
    link.enabled, link.taken_down = False, True
    if await db.get(TakenDownSlug, slug) is None:
        db.add(TakenDownSlug(slug=slug))
    if link.owner_id is not None:
        notify(
            db,
            user_id=link.owner_id,
            kind="takedown",
            message=f"Your short link /s/{slug} was taken down by the moderators after a report.",
        )


def content_kind(links: LinkResolver) -> ContentKind:
    """Describe links to moderation; the cached redirect is dropped once the takedown commits."""

    async def forget(slug: str) -> None:
        await links.forget(slug)  # the next redirect reads the disabled link

    return ContentKind(_exists, _take_down, forget)
