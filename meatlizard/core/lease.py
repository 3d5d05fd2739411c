"""A lock in the cache that lapses seconds after its holder dies, renewed while it lives."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from meatlizard.core.cache import Cache

log = logging.getLogger(__name__)

RENEWALS_PER_TTL = 3  # renewed three times a lifetime: two renewals may fail in a row


class Lease:
    """Held by one task at a time, across processes when the cache is Redis.

    The key lives `ttl_seconds` and is renewed while the holder runs, so a process killed
    mid-work (no `release`) blocks the next holder for at most `ttl_seconds`.
    """

    def __init__(self, cache: Cache, key: str, ttl_seconds: float) -> None:
        self.cache = cache
        self.key = key
        self.ttl_seconds = ttl_seconds
        self._token = secrets.token_hex(8).encode()  # renew and release only our own hold
        self._renewing: asyncio.Task[None] | None = None

    async def acquire(self) -> bool:
        """Take the lease if it is free; return whether it was taken."""
        if not await self.cache.set_if_absent(self.key, self._token, ttl_seconds=self.ttl_seconds):
            return False
        self._renewing = asyncio.create_task(self._renew(), name=f"lease:{self.key}")
        return True

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_seconds / RENEWALS_PER_TTL)
            try:
                if not await self.cache.renew(self.key, self._token, ttl_seconds=self.ttl_seconds):
                    log.warning("lease %s lapsed while held", self.key)
                    return
            except Exception:  # a cache blip: the next renewal may still be in time
                log.warning("could not renew lease %s", self.key, exc_info=True)

    async def release(self) -> None:
        """Stop renewing and free the lease (if it is still ours)."""
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewing
            self._renewing = None
        await self.cache.release(self.key, self._token)
