"""Freshness and replay checks for opened envelopes, shared across processes via the Cache."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from meatlizard.core.cache import Cache, CacheFull
from meatlizard.relay.envelope import EnvelopeError, Opened

log = logging.getLogger(__name__)

SEEN_PREFIX = "envelope:seen:"
# A nonce is remembered a little past the moment its message turns stale anyway.
MEMORY_MARGIN_SECONDS = 1.0


class ReplayGuard:
    """Refuse messages outside the time window, and any nonce already consumed in a scope."""

    def __init__(
        self,
        cache: Cache,
        *,
        window_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        cache.pin(SEEN_PREFIX)  # a record evicted inside the window would let a replay in
        self.window_seconds = window_seconds
        self._clock = clock

    def check_fresh(self, opened: Opened) -> None:
        """Raise unless the message's timestamp is within the window of now (either side)."""
        age = self._clock() - opened.timestamp_ms / 1000
        if age > self.window_seconds:
            self._refuse(opened, f"message is too old ({age:.0f} s)")
        if -age > self.window_seconds:
            self._refuse(opened, f"message is from the future ({-age:.0f} s ahead)")

    async def consume(self, opened: Opened, *, scope: str, token: str | None = None) -> None:
        """Check freshness, then record the nonce; raise if it was already used in `scope`.

        With a `token` (e.g. a stream entry id), the same token may consume its nonce again:
        that is a redelivery of one stored message, not a copy of it.
        """
        self.check_fresh(opened)
        key = f"{SEEN_PREFIX}{scope}:{opened.key_id.hex()}{opened.nonce.hex()}"
        # Until the timestamp leaves the window, the nonce check is what stops a replay.
        remember = opened.timestamp_ms / 1000 + self.window_seconds - self._clock()
        ttl = max(remember, 0.0) + MEMORY_MARGIN_SECONDS
        marker = b"" if token is None else token.encode()
        try:
            recorded = await self.cache.set_if_absent(key, marker or b"-", ttl_seconds=ttl)
        except CacheFull:  # refuse the new message rather than forget an older record
            self._refuse(opened, "replay records are full; message refused")
        if recorded:
            return
        if marker and await self.cache.get(key) == marker:
            return
        self._refuse(opened, "nonce already seen (replayed message)")

    @staticmethod
    def _refuse(opened: Opened, reason: str) -> None:
        log.warning(
            "refused envelope for session %r request %r: %s",
            opened.session_id,
            opened.request_id,
            reason,
        )
        raise EnvelopeError(reason)
