"""Typed dependencies of the links routes: the resolver, made once by the composition root."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from meatlizard.links.redirects import LinkResolver


def links_of(app_state: Any) -> LinkResolver:
    """Return the link resolver the composition root put on the app's state."""
    links: LinkResolver = app_state.services.links
    return links


async def get_links(request: Request) -> LinkResolver:
    """Return the link resolver (cache, click counter)."""
    return links_of(request.app.state)


LinksDep = Annotated[LinkResolver, Depends(get_links)]
