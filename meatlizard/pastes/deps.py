"""Typed dependencies of the paste routes and pages, made once by the composition root."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from meatlizard.api.deps import from_state
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.pastes.hot import PasteCache
from meatlizard.pastes.policy import PastePolicy


def pastes_of(app_state: Any) -> PasteCache:
    """Return the paste cache the composition root put on the app's state (for the fast path)."""
    pastes: PasteCache = app_state.services.pastes
    return pastes


PastesDep = Annotated[PasteCache, Depends(from_state("pastes"))]  # Redis or in-process, memo
PastePolicyDep = Annotated[PastePolicy, Depends(from_state("paste_policy"))]
PasteLimiterDep = Annotated[RateLimiter, Depends(from_state("paste_limiter"))]  # creation
