"""Typed dependency of the moderation routes: the reportable kinds of content."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from meatlizard.admin.moderation import ContentKinds


async def get_content_kinds(request: Request) -> ContentKinds:
    """Return each domain's reportable content, by type, registered by the composition root."""
    kinds: ContentKinds = request.app.state.services.content_kinds
    return kinds


ContentKindsDep = Annotated[ContentKinds, Depends(get_content_kinds)]
