"""Pastes in a user's personal data: exported, anonymised and counted before deletion."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.gdpr.providers import PersonalData, Scrub
from meatlizard.pastes.hot import cache_key, forget_keys
from meatlizard.pastes.models import Paste


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


async def _cached_pastes(db: AsyncSession, user: User) -> list[str]:
    ids = await db.scalars(select(Paste.id).where(Paste.owner_id == user.id))
    return [cache_key(paste_id) for paste_id in ids]


PERSONAL_DATA = PersonalData(  # registered by the runtime
    "pastes",
    _export_pastes,
    _anonymize_pastes,
    _count_pastes,
    cached=_cached_pastes,
    forget=forget_keys,  # tombstones: a reader that loaded the old row cannot restore it
)
