"""Open chat sockets follow their credentials: a revoked token or disabled account ends them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.auth.token_checks import good_token_digests
from meatlizard.core.outages import is_db_outage
from meatlizard.core.security import token_digest

log = logging.getLogger(__name__)

# How often open sockets' tokens and accounts are checked: the longest a revoked token or a
# disabled account keeps talking.
RECHECK_SECONDS = 2.0


class TokenWatch:
    """Ends the sockets whose token no longer logs anyone in (revoked, expired, disabled).

    One query a round checks every open socket's token at once, so the cost does not grow
    with the sockets: a check per socket every 2 s cost database round trips and event-loop
    wake-ups that, with 8 chats at once on 2 cores, took 7-9 % off their decoding in paired
    runs (bench/RESULTS.md).
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], interval: float = RECHECK_SECONDS
    ) -> None:
        self._sessions = sessions
        self._interval = interval
        self._watched: dict[str, set[asyncio.Event]] = {}  # token digest -> its sockets' events
        self._task: asyncio.Task[None] | None = None

    async def until_revoked(self, raw: str) -> None:
        """Return once the token `raw` no longer logs anyone in."""
        digest = token_digest(raw)
        ended = asyncio.Event()
        self._watched.setdefault(digest, set()).add(ended)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="token-watch")
        try:
            await ended.wait()
        finally:
            sockets = self._watched.get(digest)
            if sockets is not None:
                sockets.discard(ended)
                if not sockets:
                    del self._watched[digest]

    async def close(self) -> None:
        """Stop checking (at shutdown)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while self._watched:
            await asyncio.sleep(self._interval)
            digests = list(self._watched)
            try:
                good = await self._still_good(digests)
            except Exception as exc:
                # While the database is down the tokens are checked again next round.
                if not is_db_outage(exc):
                    log.exception("could not check the open chat sockets' tokens")
                continue
            self._end([d for d in digests if d not in good])

    async def _still_good(self, digests: list[str]) -> set[str]:
        async with self._sessions() as db:
            return await good_token_digests(db, digests)

    def _end(self, digests: Iterable[str]) -> None:
        for digest in digests:
            for ended in self._watched.pop(digest, set()):
                ended.set()
