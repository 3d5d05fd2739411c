"""Typed dependencies of the paste routes and pages, made once by the composition root."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from meatlizard.core.rate_limit import RateLimiter
from meatlizard.pastes.hot import PasteCache
from meatlizard.pastes.policy import PastePolicy


def pastes_of(app_state: Any) -> PasteCache:
    """Return the paste cache the composition root put on the app's state."""
    pastes: PasteCache = app_state.services.pastes
    return pastes


async def get_pastes(request: Request) -> PasteCache:
    """Return the paste cache (Redis or in-process, with its memo)."""
    return pastes_of(request.app.state)


async def get_paste_policy(request: Request) -> PastePolicy:
    """Return the operator's paste settings."""
    policy: PastePolicy = request.app.state.services.paste_policy
    return policy


async def get_paste_limiter(request: Request) -> RateLimiter:
    """Return the limiter of paste creation."""
    limiter: RateLimiter = request.app.state.services.paste_limiter
    return limiter


PastesDep = Annotated[PasteCache, Depends(get_pastes)]
PastePolicyDep = Annotated[PastePolicy, Depends(get_paste_policy)]
PasteLimiterDep = Annotated[RateLimiter, Depends(get_paste_limiter)]
