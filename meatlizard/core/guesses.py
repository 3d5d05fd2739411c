"""Password guesses counted before they are checked, so parallel guesses cannot outrun a limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from meatlizard.core.cache import Cache
from meatlizard.core.errors import TooManyRequests
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.core.settings import Rate


def refusal(what: str, retry_after_seconds: float) -> TooManyRequests:
    """Return the 429 for too many guesses, saying when to try again."""
    wait = max(1, round(retry_after_seconds))
    return TooManyRequests(f"too many {what}; try again in {wait} s", retry_after_seconds)


async def take(checks: Sequence[tuple[RateLimiter, str]], what: str) -> None:
    """Count one guess on every (limiter, identity) first, or raise 429 without checking it.

    The counter is incremented atomically before the password is verified, so N concurrent
    guesses use N slots: no more than the limit are ever verified, in one process or many.
    """
    for limiter, identity in checks:
        decision = await limiter.hit(identity)
        if not decision.allowed:
            raise refusal(what, decision.retry_after_seconds)


@dataclass(frozen=True)
class Guesses:
    """One client's guesses at the passwords of shared things (pastes, files, links)."""

    cache: Cache
    client: str
    rate: Rate  # per client address and thing

    async def take(self, kind: str, target: str) -> None:
        """Count a guess at `kind` `target`'s password, or raise 429."""
        limiter = RateLimiter(self.cache, f"{kind}-password", self.rate)
        await take([(limiter, f"{self.client}:{target}")], f"wrong {kind} passwords")
