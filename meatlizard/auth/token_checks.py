"""Tokens already accepted, checked many at once (the open chat sockets of a process)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import AuthToken, User
from meatlizard.auth.service import LAST_USED_RESOLUTION
from meatlizard.core.db import utcnow

DIGESTS_PER_QUERY = 500  # well under every database's limit on bound parameters


async def good_token_digests(db: AsyncSession, digests: Sequence[str]) -> set[str]:
    """Return which of these token digests still log an active user in (one query per 500).

    For tokens already accepted (open sockets): their last use is noted as user_for_token does.
    """
    now = utcnow()
    good: set[str] = set()
    stale: list[int] = []
    for start in range(0, len(digests), DIGESTS_PER_QUERY):
        rows = await db.execute(
            select(AuthToken.id, AuthToken.digest, AuthToken.expires_at, AuthToken.last_used_at)
            .join(User, User.id == AuthToken.user_id)
            .where(
                AuthToken.digest.in_(digests[start : start + DIGESTS_PER_QUERY]),
                User.is_active.is_(True),
            )
        )
        for token_id, digest, expires_at, last_used_at in rows:
            if expires_at is not None and expires_at <= now:
                continue
            good.add(digest)
            if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
                stale.append(token_id)
    if stale:
        await db.execute(update(AuthToken).where(AuthToken.id.in_(stale)).values(last_used_at=now))
        await db.commit()
    return good
