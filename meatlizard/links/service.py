"""Link logic: create, read, list, edit, delete and sweep long-expired links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.core.db import utcnow
from meatlizard.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from meatlizard.core.security import hash_password, same_secret
from meatlizard.links.models import Link, TakenDownSlug, new_slug
from meatlizard.links.policy import LinkPolicy
from meatlizard.links.safety import check_slug, check_target
from meatlizard.links.schemas import LinkCreate, LinkUpdate

RANDOM_SLUG_ATTEMPTS = 8
# Expired links answer 410 for this long, then the sweep removes them (and they answer 404).
EXPIRED_RETENTION = timedelta(days=30)


def digest(token: str) -> str:
    """Return the stored form of a delete token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check_expiry(data: LinkCreate | LinkUpdate) -> None:
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise InvalidInput("expires_at must be in the future")


async def create_link(
    db: AsyncSession, *, owner: User | None, data: LinkCreate, policy: LinkPolicy
) -> tuple[Link, str | None]:
    """Store a new link; return it and, for anonymous links, its one-time delete token."""
    if owner is None and not policy.allow_anonymous:
        raise Unauthenticated("anonymous links are disabled here; log in first")
    target = check_target(data.url, policy.rules)
    custom = check_slug(data.slug, policy.reserved) if data.slug else None
    _check_expiry(data)
    delete_token = secrets.token_urlsafe(18) if owner is None else None
    password_hash = await hash_password(data.password) if data.password else None
    for _ in range(1 if custom else RANDOM_SLUG_ATTEMPTS):
        slug = custom or new_slug()
        if await db.get(TakenDownSlug, slug) is not None:
            if custom:  # deleting a taken-down link does not free its slug
                raise Conflict(f"slug {custom!r} was taken down by the moderators; pick another")
            continue
        link = Link(
            slug=slug,
            owner_id=owner.id if owner else None,
            target_url=target,
            title=data.title,
            tags=data.tags,
            enabled=data.enabled,
            password_hash=password_hash,
            delete_token_hash=digest(delete_token) if delete_token else None,
            max_clicks=data.max_clicks,
            clicks=0,
            bot_clicks=0,
            expires_at=data.expires_at,
        )
        db.add(link)
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()
            continue
        return link, delete_token
    if custom:
        raise Conflict(f"slug {custom!r} is taken; pick another")
    raise Conflict("could not find a free random slug; try again")


async def get_link(db: AsyncSession, *, slug: str) -> Link:
    """Return the link with this slug."""
    link = await db.scalar(select(Link).where(Link.slug == slug))
    if link is None:
        raise NotFound("no such link")
    return link


async def owned_link(db: AsyncSession, *, slug: str, user: User) -> Link:
    """Return a link its owner (or an admin) may manage; others learn nothing."""
    link = await get_link(db, slug=slug)
    if link.owner_id != user.id and not user.is_admin:
        raise NotFound("no such link")
    return link


async def list_links(
    db: AsyncSession, *, owner: User, everyone: bool = False, tag: str | None = None
) -> list[Link]:
    """List your links (or, for an admin asking, everyone's), newest first."""
    if everyone and not owner.is_admin:
        raise Forbidden("only admins can list every link")
    query = select(Link).order_by(Link.created_at.desc(), Link.id.desc())
    if not everyone:
        query = query.where(Link.owner_id == owner.id)
    links = list(await db.scalars(query))
    return [link for link in links if tag is None or tag.lower() in link.tags]


async def update_link(
    db: AsyncSession, *, slug: str, user: User, data: LinkUpdate, policy: LinkPolicy
) -> Link:
    """Apply the fields sent; null clears expiry, max clicks or the password."""
    link = await owned_link(db, slug=slug, user=user)
    sent = data.model_fields_set
    if "url" in sent:
        if data.url is None:
            raise InvalidInput("url cannot be cleared")
        link.target_url = check_target(data.url, policy.rules)
    if "enabled" in sent:
        if data.enabled is None:
            raise InvalidInput("enabled must be true or false")
        if data.enabled and link.taken_down:
            raise Forbidden("this link was taken down by the moderators and stays disabled")
        link.enabled = data.enabled
    if "title" in sent:
        link.title = data.title
    if "tags" in sent:
        link.tags = data.tags
    if "expires_at" in sent:
        _check_expiry(data)
        link.expires_at = data.expires_at
    if "max_clicks" in sent:
        link.max_clicks = data.max_clicks
    if "password" in sent:
        link.password_hash = await hash_password(data.password) if data.password else None
    await db.commit()
    return link


async def delete_link(
    db: AsyncSession, *, slug: str, user: User | None, token: str | None = None
) -> Link:
    """Delete a link as its owner, an admin, or with its delete token; return it."""
    link = await db.scalar(select(Link).where(Link.slug == slug))
    if link is None:
        raise NotFound("no such link")
    by_token = bool(token and link.delete_token_hash) and same_secret(
        digest(token or ""), link.delete_token_hash or ""
    )
    by_user = user is not None and (user.id == link.owner_id or user.is_admin)
    if not (by_token or by_user):
        raise Forbidden("only the owner or the delete token can delete this link")
    await db.delete(link)
    await db.commit()
    return link


async def sweep_expired(db: AsyncSession) -> list[str]:
    """Delete links expired longer than the retention; return their slugs."""
    cutoff = utcnow() - EXPIRED_RETENTION
    slugs = list(await db.scalars(select(Link.slug).where(Link.expires_at <= cutoff)))
    if slugs:
        await db.execute(delete(Link).where(Link.slug.in_(slugs)))
        await db.commit()
    return slugs
