"""What the file list shows before each name: a small picture of an image, else a type label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from meatlizard.core.db import utcnow
from meatlizard.files.models import READY, StoredFile
from meatlizard.files.sniff import is_dangerous

# Images every browser draws; the type is the one sniffed from the bytes, not the name's.
THUMBNAIL_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# A thumbnail is the file itself, scaled down by the browser and loaded lazily: a bigger
# image gets a label instead of a multi-megabyte download for a 40-pixel picture.
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
# Labels are at most four characters ("TXT", "PDF", "JSON"): a longer extension gives way to
# the type's subtype, and a longer subtype to "FILE".
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,4})$")
_SUBTYPE = re.compile(r"^[a-z]+/(?:x-)?([a-z0-9]{1,4})$")


@dataclass(frozen=True)
class FileLook:
    """How one row of the list pictures its file: a thumbnail URL, or a short type label."""

    thumbnail: str | None
    label: str


def thumbnail_url(
    item: StoredFile, now: datetime | None = None, viewer_id: int | None = None
) -> str | None:
    """Return the raw URL to draw as this file's thumbnail, or None when it gets a label.

    `viewer_id` is the user the list is drawn for: a file with a download limit is drawn
    only for its owner, since anyone else's fetch (an admin's in My stuff) uses a download.
    """
    if item.status != READY or item.content_type not in THUMBNAIL_TYPES:
        return None
    if item.max_downloads is not None and (viewer_id is None or viewer_id != item.owner_id):
        return None
    if item.size > THUMBNAIL_MAX_BYTES or is_dangerous(item.content_type, item.name):
        return None
    if item.expires_at is not None and item.expires_at <= (now or utcnow()):
        return None  # listed until swept, but no longer served
    return f"/f/{item.id}/raw"


def type_label(content_type: str, name: str) -> str:
    """Return a short upper-case label for a file's type: its extension, its subtype, FILE."""
    extension = _EXTENSION.search(name)
    if extension:
        return extension.group(1).upper()
    subtype = _SUBTYPE.match(content_type)
    if subtype:
        return subtype.group(1).upper()
    return "FILE"


def looks(files: list[StoredFile], *, viewer_id: int) -> dict[str, FileLook]:
    """Return each listed file's look for the user `viewer_id`, keyed by file id."""
    now = utcnow()
    return {
        f.id: FileLook(thumbnail_url(f, now, viewer_id), type_label(f.content_type, f.name))
        for f in files
    }
