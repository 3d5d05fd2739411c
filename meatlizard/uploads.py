"""Routes that take uploads (files, tus, pastes, captions) and their body limits.

The body guard (`api/body_guard.py`) limits every request body; these routes keep their own,
larger limits, and their bodies are files even when their content type says JSON.
"""

from __future__ import annotations

from meatlizard.core.settings import Settings
from meatlizard.pastes.body import body_limit as paste_body_limit
from meatlizard.videos.captions import MAX_CAPTION_BYTES

MULTIPART_FRAMING_BYTES = 64 * 1024  # form boundaries and the other fields of an upload


def own_limit(method: str, path: str, settings: Settings, content_type: bytes) -> int | None:
    """Return the limit of a route with its own (upload) limit, or None: the JSON default."""
    if path.startswith("/api/v1/files"):
        if path.startswith("/api/v1/files/tus") or (method, path) == ("POST", "/api/v1/files"):
            return settings.files_max_upload_bytes + MULTIPART_FRAMING_BYTES
        if method == "PUT" and path.count("/") == 4:  # PUT /api/v1/files/{name}
            return settings.files_max_upload_bytes
    elif (method, path) == ("POST", "/api/v1/pastes"):
        kind = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
        return paste_body_limit(kind, settings.paste_max_bytes)
    elif method == "PUT" and path.startswith("/api/v1/videos/") and "/captions/" in path:
        return MAX_CAPTION_BYTES
    return None


def is_upload(method: str, path: str) -> bool:
    """Return True for routes whose body is a file, whatever its type says (JSON files too)."""
    if path.startswith("/api/v1/files/tus"):
        return True
    if method != "PUT":
        return False
    return (path.startswith("/api/v1/files/") and path.count("/") == 4) or "/captions/" in path
