"""Who may register: REGISTRATION (open, invite-only, closed) and a rate per client address."""

from __future__ import annotations

from meatlizard.core.cache import Cache
from meatlizard.core.errors import Forbidden, TooManyRequests
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.core.settings import Rate, Settings


def invite_needed(settings: Settings, invite: str | None) -> str | None:
    """Return the invite code to redeem (None when open), or refuse the registration."""
    if settings.registration == "closed":
        raise Forbidden("registration is closed on this server; ask an admin for an account")
    if settings.registration == "invite-only":
        if not invite:
            raise Forbidden("registration needs an invite code from an admin")
        return invite
    return None


async def check_rate(cache: Cache, settings: Settings, client: str) -> None:
    """Refuse a client address that registered too many accounts lately."""
    limiter = RateLimiter(
        cache, "register", Rate.parse(settings.registration_rate_limit), fail_open=True
    )
    decision = await limiter.hit(client)
    if not decision.allowed:
        raise TooManyRequests(
            "too many new accounts from this address", decision.retry_after_seconds
        )
