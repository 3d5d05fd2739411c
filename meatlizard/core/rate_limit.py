"""Rate limits counted in the shared cache as a sliding window.

Each identity has one counter per fixed window; an event is weighed against the current
window's count plus the previous window's count scaled by how much of it still lies within
one window of now (the sliding-window counter Cloudflare and nginx-style limiters use). So a
client cannot spend a whole limit at the end of one window and again at the start of the
next, and a test's burst never straddles a reset. Two plain counters per identity keep it on
the cache's `incr`/`get` alone, on Redis and in-process alike.
"""

from __future__ import annotations

import logging
import math
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


@dataclass(frozen=True)
class _Window:
    """Where `now` falls: the current window's number and how far into it we are."""

    number: int
    elapsed: float
    length: float

    @property
    def left(self) -> float:
        return self.length - self.elapsed

    @property
    def previous_weight(self) -> float:
        """The share of the previous window still within one window of now."""
        return 1.0 - self.elapsed / self.length


class RateLimiter:
    """At most `rate.count` events per sliding window per identity.

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

    def _window(self) -> _Window:
        now = self._clock()
        length = float(self.rate.window_seconds)
        number = int(now // length)
        return _Window(number, now - number * length, length)

    def _key(self, identity: str, number: int) -> str:
        return f"rl:{self.name}:{identity}:{number}"

    def _ttl(self, window: _Window) -> float:
        """Keep a window's counter until it has stopped being the previous one."""
        return window.left + window.length + 1

    async def _previous(self, identity: str, window: _Window) -> int:
        raw = await self.cache.get(self._key(identity, window.number - 1))
        return max(0, int(raw)) if raw else 0

    def _decide(self, previous: int, current: int, window: _Window) -> RateDecision:
        limit = self.rate.count
        current = max(0, current)
        weighted = previous * window.previous_weight + current
        if weighted <= limit:
            return RateDecision(True, max(0, limit - math.ceil(weighted)), 0.0)
        return RateDecision(False, 0, self._wait(previous, current, window))

    def _wait(self, previous: int, current: int, window: _Window) -> float:
        """Seconds until one more event would be allowed, if no other comes meanwhile."""
        limit = self.rate.count
        if current < limit and previous > 0:
            # This window has room; wait for enough of the previous one to slide out.
            share = (limit - current - 1) / previous  # the previous weight that would fit
            return max(0.0, (1.0 - share) * window.length - window.elapsed)
        # This window is full: it becomes the previous one, and must slide out far enough.
        share = (limit - 1) / current
        return window.left + max(0.0, (1.0 - share) * window.length)

    async def hit(self, identity: str) -> RateDecision:
        """Count one event (refused ones too) and say whether it is allowed."""
        window = self._window()
        try:
            current = await self.cache.incr(
                self._key(identity, window.number), ttl_seconds=self._ttl(window)
            )
            previous = await self._previous(identity, window)
        except CacheUnavailable as exc:
            return self._open_during(exc)
        return self._decide(previous, current, window)

    async def peek(self, identity: str) -> RateDecision:
        """Say whether one more event would be allowed, without counting it."""
        window = self._window()
        try:
            raw = await self.cache.get(self._key(identity, window.number))
            previous = await self._previous(identity, window)
        except CacheUnavailable as exc:
            return self._open_during(exc)
        return self._decide(previous, (int(raw) if raw else 0) + 1, window)

    async def give_back(self, identity: str) -> None:
        """Return one counted event (an attempt that turned out to be allowed for free)."""
        window = self._window()
        try:
            await self.cache.incr(
                self._key(identity, window.number), -1, ttl_seconds=self._ttl(window)
            )
        except CacheUnavailable as exc:
            self._open_during(exc)

    async def reset(self, identity: str) -> None:
        """Forget the identity's events (this window's and the one sliding out)."""
        window = self._window()
        try:
            await self.cache.delete(self._key(identity, window.number))
            await self.cache.delete(self._key(identity, window.number - 1))
        except CacheUnavailable as exc:
            self._open_during(exc)
