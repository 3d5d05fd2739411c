"""Rate limits counted in the shared cache, one fixed window at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from meatlizard.core.cache import Cache, CacheUnavailable
from meatlizard.core.settings import Rate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateDecision:
    """Whether an event is allowed, how many remain, and when to retry if not."""

    allowed: bool
    remaining: int
    retry_after_seconds: float


class RateLimiter:
    """Fixed-window counter: at most `rate.count` events per window per identity.

    While the cache is unreachable a `fail_open` limiter lets events through (a limit on
    volume); the others raise CacheUnavailable (limits on password guesses stay closed).
    """

    def __init__(
        self,
        cache: Cache,
        name: str,
        rate: Rate,
        *,
        clock: Callable[[], float] = time.time,
        fail_open: bool = False,
    ) -> None:
        self.cache = cache
        self.name = name
        self.rate = rate
        self._clock = clock
        self.fail_open = fail_open

    def _open_during(self, exc: CacheUnavailable) -> RateDecision:
        if not self.fail_open:
            raise exc
        log.warning("rate limit %s not applied while the cache is unreachable", self.name)
        return RateDecision(True, self.rate.count, 0.0)

    def _window(self) -> tuple[str, float]:
        now = self._clock()
        window = int(now // self.rate.window_seconds)
        left = (window + 1) * self.rate.window_seconds - now
        return str(window), left

    def _key(self, identity: str, window: str) -> str:
        return f"rl:{self.name}:{identity}:{window}"

    def _decide(self, count: int, left: float) -> RateDecision:
        allowed = count <= self.rate.count
        return RateDecision(allowed, max(0, self.rate.count - count), 0.0 if allowed else left)

    async def hit(self, identity: str) -> RateDecision:
        """Count one event and say whether it is allowed."""
        window, left = self._window()
        try:
            count = await self.cache.incr(self._key(identity, window), ttl_seconds=left + 1)
        except CacheUnavailable as exc:
            return self._open_during(exc)
        return self._decide(count, left)

    async def peek(self, identity: str) -> RateDecision:
        """Say whether one more event would be allowed, without counting it."""
        window, left = self._window()
        try:
            raw = await self.cache.get(self._key(identity, window))
        except CacheUnavailable as exc:
            return self._open_during(exc)
        return self._decide((int(raw) if raw else 0) + 1, left)

    async def give_back(self, identity: str) -> None:
        """Return one counted event (an attempt that turned out to be allowed for free)."""
        window, left = self._window()
        try:
            await self.cache.incr(self._key(identity, window), -1, ttl_seconds=left + 1)
        except CacheUnavailable as exc:
            self._open_during(exc)

    async def reset(self, identity: str) -> None:
        """Forget the identity's events in the current window."""
        window, _ = self._window()
        try:
            await self.cache.delete(self._key(identity, window))
        except CacheUnavailable as exc:
            self._open_during(exc)
