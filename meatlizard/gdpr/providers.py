"""Each domain's share of a user's personal data: export, anonymise, count before deletion.

Domains register a `PersonalData` (pastes and content reports here; links, files and
videos add theirs), so anonymise, export and delete cover every table without knowing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin.models import ContentReport
from meatlizard.auth.models import User
from meatlizard.core.cache import Cache
from meatlizard.pastes.hot import cache_key, forget_keys
from meatlizard.pastes.models import Paste

Scrub = Callable[[str], str]


@dataclass(frozen=True)
class PersonalObject:
    """A stored object the user owns: exported into the zip, deleted with the account."""

    path: str | None  # name inside the export zip; None: not exported (unfinished, removed)
    key: str
    size: int
    upload_token: str | None = None  # an unfinished upload: aborted rather than deleted


@dataclass(frozen=True)
class PersonalData:
    """How one domain exports, anonymises and counts what a user owns."""

    name: str
    export: Callable[[AsyncSession, User], Awaitable[list[dict[str, Any]]]]
    anonymize: Callable[[AsyncSession, User, Scrub], Awaitable[int]]  # rows rewritten
    count: Callable[[AsyncSession, User], Awaitable[int]]  # rows removed with the account
    objects: Callable[[AsyncSession, User], Awaitable[list[PersonalObject]]] | None = None
    # Cache keys holding copies of the rows, dropped once anonymise or delete commits.
    cached: Callable[[AsyncSession, User], Awaitable[list[str]]] | None = None
    # How to drop them, when a plain delete is not enough (default: delete each key).
    forget: Callable[[Cache, list[str]], Awaitable[None]] | None = None
    # Storage folders of derived objects (e.g. video renditions): deleted, not exported.
    folders: Callable[[AsyncSession, User], Awaitable[list[str]]] | None = None


PROVIDERS: list[PersonalData] = []


def register(provider: PersonalData) -> None:
    """Include a domain's data in anonymise, export and delete."""
    PROVIDERS.append(provider)


async def _pastes(db: AsyncSession, user: User) -> list[Paste]:
    return list(await db.scalars(select(Paste).where(Paste.owner_id == user.id)))


async def _export_pastes(db: AsyncSession, user: User) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "title": p.title,
            "language": p.language,
            "visibility": p.visibility,
            "content": p.content,
            "created_at": p.created_at.isoformat(),
            "expires_at": p.expires_at.isoformat() if p.expires_at else None,
        }
        for p in await _pastes(db, user)
    ]


async def _anonymize_pastes(db: AsyncSession, user: User, scrub: Scrub) -> int:
    changed = 0
    for paste in await _pastes(db, user):
        title, content = scrub(paste.title), scrub(paste.content)
        if (title, content) != (paste.title, paste.content):
            paste.title, paste.content = title, content
            paste.size = len(content.encode())
            changed += 1
    return changed


async def _count_pastes(db: AsyncSession, user: User) -> int:
    owned = select(func.count()).select_from(Paste).where(Paste.owner_id == user.id)
    count = await db.scalar(owned)
    return int(count or 0)


async def _reports(db: AsyncSession, user: User) -> list[ContentReport]:
    query = select(ContentReport).where(ContentReport.reporter_id == user.id)
    return list(await db.scalars(query))


async def _export_reports(db: AsyncSession, user: User) -> list[dict[str, Any]]:
    return [
        {
            "content_type": r.content_type,
            "content_id": r.content_id,
            "reason": r.reason,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
        }
        for r in await _reports(db, user)
    ]


async def _anonymize_reports(db: AsyncSession, user: User, scrub: Scrub) -> int:
    changed = 0
    for report in await _reports(db, user):
        reason = scrub(report.reason)
        if reason != report.reason:
            report.reason = reason
            changed += 1
    return changed


async def _count_reports(db: AsyncSession, user: User) -> int:
    return 0  # reports outlive their reporter (reporter_id becomes NULL) for the admins' record


async def _cached_pastes(db: AsyncSession, user: User) -> list[str]:
    ids = await db.scalars(select(Paste.id).where(Paste.owner_id == user.id))
    return [cache_key(paste_id) for paste_id in ids]


CachedKeys = list[tuple[PersonalData, list[str]]]


async def cached_keys(db: AsyncSession, user: User) -> CachedKeys:
    """Return every provider's cache keys for the user (read before the rows change)."""
    return [(p, await p.cached(db, user)) for p in PROVIDERS if p.cached is not None]


async def forget_cached(cache: Cache | None, stale: CachedKeys) -> None:
    """Drop the cached copies named by `cached_keys` (after the change commits)."""
    if cache is None:
        return
    for provider, keys in stale:
        if provider.forget is not None:
            await provider.forget(cache, keys)
        else:
            for key in keys:
                await cache.delete(key)


register(
    PersonalData(
        "pastes",
        _export_pastes,
        _anonymize_pastes,
        _count_pastes,
        cached=_cached_pastes,
        forget=forget_keys,  # tombstones: a reader that loaded the old row cannot restore it
    )
)
register(PersonalData("content_reports", _export_reports, _anonymize_reports, _count_reports))

# Domains that plug their data in (imported last: they import this module's registry).
import meatlizard.files.privacy  # noqa: E402
import meatlizard.links.privacy  # noqa: E402
import meatlizard.videos.privacy  # noqa: E402, F401
