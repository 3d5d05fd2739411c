"""Each domain's share of a user's personal data: export, anonymise, count before deletion.

Each domain describes its share with a `PersonalData` (in its `privacy.py`) and the runtime
registers them, so anonymise, export and delete cover every table without knowing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.core.cache import Cache

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
    """Include a domain's data in anonymise, export and delete (once per name)."""
    if all(known.name != provider.name for known in PROVIDERS):
        PROVIDERS.append(provider)


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
