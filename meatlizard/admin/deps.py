"""Typed dependency of the moderation routes: the reportable kinds of content."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from meatlizard.admin.moderation import ContentKinds
from meatlizard.api.deps import from_state

# Each domain's reportable content, by type, registered by the composition root.
ContentKindsDep = Annotated[ContentKinds, Depends(from_state("content_kinds"))]
