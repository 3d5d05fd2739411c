"""HTTP validators for paste reads: revalidated on every use, never for one-time or secrets."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import Request, status
from fastapi.responses import Response

from meatlizard.pastes.highlight import content_version
from meatlizard.pastes.models import Paste

# Caches may keep a copy but must ask first, so expiry and deletion still apply on every read.
REVALIDATE = "no-cache"
REVALIDATE_PRIVATE = "private, no-cache"  # pages carry the browser's CSRF token and its user
NO_STORE = "no-store"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def code_version(root: Path) -> str:
    """Name the code and templates under `root` by their contents.

    Pages change with the templates and code that drew them: every worker of one install
    names them alike (so a 304 comes from whichever worker answers), and a deploy that
    changes any of them retires every page validator.
    """
    digest = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.html")]):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@cache
def _page_epoch() -> str:
    return code_version(PACKAGE_ROOT)


def cacheable(paste: Paste) -> bool:
    """Return whether a copy may be kept: not burn-after-read, password or private pastes."""
    return not (
        paste.burn_after_read or paste.password_hash is not None or paste.visibility == "private"
    )


def raw_tag(content: str) -> str:
    """Return the strong ETag of a paste's text."""
    return f'"{content_version(content, "")[:32]}"'


def raw_headers(paste: Paste) -> dict[str, str]:
    """Return the caching headers of the paste's text."""
    if not cacheable(paste):
        return {"Cache-Control": NO_STORE}
    return {"Cache-Control": REVALIDATE, "ETag": raw_tag(paste.content)}


def page_tag(version: str, *parts: str) -> str:
    """Return the weak ETag of a page drawn from `version` for these viewer `parts`."""
    tag = hashlib.sha256("\0".join((_page_epoch(), version, *parts)).encode()).hexdigest()
    return f'W/"{tag[:32]}"'


def page_headers(paste: Paste, version: str, *parts: str | None) -> dict[str, str]:
    """Return the caching headers of the paste's page, which also depends on `parts`."""
    if not cacheable(paste):
        return {"Cache-Control": NO_STORE}
    if None in parts:  # the page will differ in a way we cannot name (a fresh CSRF token)
        return {"Cache-Control": REVALIDATE_PRIVATE}
    return {
        "Cache-Control": REVALIDATE_PRIVATE,
        "ETag": page_tag(version, *(part or "" for part in parts)),
    }


def held(if_none_match: str | None, etag: str | None) -> bool:
    """Return whether an If-None-Match header names this ETag (weakly compared)."""
    if etag is None or if_none_match is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """Answer 304 when the client already holds this version, else None."""
    if held(request.headers.get("if-none-match"), headers.get("ETag")):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return None
