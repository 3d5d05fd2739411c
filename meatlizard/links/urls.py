"""The absolute URLs a link is shared and managed by."""

from __future__ import annotations

from starlette.requests import Request

from meatlizard.core.settings import Settings
from meatlizard.links.models import Link
from meatlizard.links.schemas import LinkRead


def public_base(settings: Settings, request: Request) -> str:
    """Return the base of short URLs: LINK_PUBLIC_BASE_URL or the address used."""
    return settings.link_public_base_url or str(request.base_url).rstrip("/")


def link_read(base: str, link: Link, *, owner: str | None = None) -> LinkRead:
    """Describe a link with its absolute URLs."""
    read = LinkRead.model_validate(link)
    read.owner = owner
    read.has_password = link.password_hash is not None
    read.short_url = f"{base}/s/{link.slug}"
    read.preview_url = f"{base}/s/{link.slug}+"
    read.qr_url = f"{base}/s/{link.slug}/qr.svg"
    read.stats_url = f"{base}/links/{link.slug}/stats"
    return read
