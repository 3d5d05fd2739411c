"""Typed dependencies of the login routes and pages: the two login limiters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from meatlizard.core.rate_limit import RateLimiter


@dataclass(frozen=True)
class LoginLimiters:
    """Failed logins are counted per account name and per caller address."""

    by_name: RateLimiter
    by_address: RateLimiter


async def get_login_limiters(request: Request) -> LoginLimiters:
    """Return the login limiters made once by the composition root."""
    services = request.app.state.services
    return LoginLimiters(services.login_limiter, services.login_address_limiter)


LoginLimitersDep = Annotated[LoginLimiters, Depends(get_login_limiters)]
