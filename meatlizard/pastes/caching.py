"""HTTP validators for paste reads: revalidated on every use, never for one-time or secrets."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Request, status
from fastapi.responses import Response

from meatlizard.pastes.highlight import content_version
from meatlizard.pastes.models import Paste

# Caches may keep a copy but must ask first, so expiry and deletion still apply on every read.
REVALIDATE = "no-cache"
REVALIDATE_PRIVATE = "private, no-cache"  # pages carry the browser's CSRF token and its user
NO_STORE = "no-store"
# Pages change with the templates and code of the process that drew them: each process
# names its own, so a restart or a deploy retires every page validator.
_PAGE_EPOCH = secrets.token_hex(8)


def cacheable(paste: Paste) -> bool:
    """Return whether a copy may be kept: not burn-after-read, password or private pastes."""
    return not (
        paste.burn_after_read or paste.password_hash is not None or paste.visibility == "private"
    )


def raw_headers(paste: Paste) -> dict[str, str]:
    """Return the caching headers of the paste's text."""
    if not cacheable(paste):
        return {"Cache-Control": NO_STORE}
    return {"Cache-Control": REVALIDATE, "ETag": f'"{content_version(paste.content, "")[:32]}"'}


def page_headers(paste: Paste, version: str, *parts: str | None) -> dict[str, str]:
    """Return the caching headers of the paste's page, which also depends on `parts`."""
    if not cacheable(paste):
        return {"Cache-Control": NO_STORE}
    if None in parts:  # the page will differ in a way we cannot name (a fresh CSRF token)
        return {"Cache-Control": REVALIDATE_PRIVATE}
    named = (_PAGE_EPOCH, version, *(part or "" for part in parts))
    tag = hashlib.sha256("\0".join(named).encode()).hexdigest()
    return {"Cache-Control": REVALIDATE_PRIVATE, "ETag": f'W/"{tag[:32]}"'}


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """Answer 304 when the client already holds this version, else None."""
    etag = headers.get("ETag")
    sent = request.headers.get("if-none-match")
    if etag is None or sent is None:
        return None
    held = {tag.strip().removeprefix("W/") for tag in sent.split(",")}
    if "*" in held or etag.removeprefix("W/") in held:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return None
