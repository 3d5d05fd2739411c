"""Pastes as reportable content: a takedown deletes the paste and its cached copy."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin.moderation import ContentKind
from meatlizard.pastes.hot import PasteCache
from meatlizard.pastes.models import Paste


async def _exists(db: AsyncSession, paste_id: str) -> bool:
    return await db.get(Paste, paste_id) is not None


async def _take_down(db: AsyncSession, paste_id: str) -> None:
    paste = await db.get(Paste, paste_id)
    if paste is not None:
        await db.delete(paste)


def content_kind(pastes: PasteCache) -> ContentKind:
    """Describe pastes to moderation; the cache is emptied once the takedown commits."""

    async def forget(paste_id: str) -> None:
        await pastes.forget(paste_id)  # no reader gets a cached copy after the takedown

    return ContentKind(_exists, _take_down, forget)
