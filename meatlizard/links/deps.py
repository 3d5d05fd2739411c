"""Typed dependencies of the links routes: the resolver, made once by the composition root."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from meatlizard.api.deps import from_state
from meatlizard.links.redirects import LinkResolver


def links_of(app_state: Any) -> LinkResolver:
    """Return the link resolver the composition root put on the app's state (for the fast path)."""
    links: LinkResolver = app_state.services.links
    return links


LinksDep = Annotated[LinkResolver, Depends(from_state("links"))]  # cache, click counter
