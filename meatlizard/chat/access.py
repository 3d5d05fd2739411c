"""Open chat sockets follow their credentials: a revoked token or disabled account ends them."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.auth import service as auth_service
from meatlizard.core.outages import is_db_outage

# How often an open socket checks that its token and account are still good: the longest
# a revoked token or a disabled account keeps talking.
RECHECK_SECONDS = 2.0


async def until_revoked(
    sessions: async_sessionmaker[AsyncSession], raw: str, interval: float = RECHECK_SECONDS
) -> None:
    """Return once the token `raw` no longer logs anyone in (revoked, expired, disabled)."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with sessions() as db:
                if await auth_service.user_for_token(db, raw=raw) is None:
                    return
        except Exception as exc:
            if not is_db_outage(exc):
                raise  # while the database is down the token is checked again next time
