"""Which listed files get a thumbnail, and the type label of the others."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meatlizard.core.db import utcnow
from meatlizard.files.models import READY, UPLOADING, StoredFile
from meatlizard.files.thumbnails import THUMBNAIL_MAX_BYTES, thumbnail_url, type_label


def stored(**fields: object) -> StoredFile:
    values: dict[str, object] = {
        "id": "abc123",
        "name": "photo.png",
        "content_type": "image/png",
        "size": 1000,
        "status": READY,
        "expires_at": None,
        "owner_id": 7,
        "max_downloads": None,
    }
    values.update(fields)
    return StoredFile(**values)


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "image/gif", "image/webp"])
def test_small_images_are_their_own_thumbnail(content_type: str) -> None:
    item = stored(content_type=content_type, size=THUMBNAIL_MAX_BYTES)
    assert thumbnail_url(item) == "/f/abc123/raw"


@pytest.mark.parametrize(
    "fields",
    [
        {"size": THUMBNAIL_MAX_BYTES + 1},  # not fetched whole for a 40-pixel picture
        {"content_type": "image/svg+xml", "name": "logo.svg"},
        {"content_type": "image/tiff", "name": "scan.tiff"},
        {"content_type": "text/plain", "name": "notes.txt"},
        {"name": "photo.svg"},  # a name a browser could run
        {"status": UPLOADING},
        {"expires_at": utcnow() - timedelta(minutes=1)},
    ],
    ids=["too big", "svg", "tiff", "text", "svg name", "unfinished", "expired"],
)
def test_other_files_get_a_label(fields: dict[str, object]) -> None:
    assert thumbnail_url(stored(**fields), viewer_id=7) is None


def test_a_download_limited_image_is_drawn_only_for_its_owner() -> None:
    """Anyone else's fetch of the thumbnail (an admin's list of everyone's) is a download."""
    item = stored(max_downloads=3)
    assert thumbnail_url(item, viewer_id=7) == "/f/abc123/raw"
    assert thumbnail_url(item, viewer_id=8) is None
    assert thumbnail_url(item) is None
    assert thumbnail_url(stored(), viewer_id=8) == "/f/abc123/raw"  # no limit, nothing used


@pytest.mark.parametrize(
    ("content_type", "name", "label"),
    [
        ("text/plain", "notes.txt", "TXT"),
        ("application/pdf", "report", "PDF"),
        ("application/x-tar", "backup", "TAR"),
        ("application/octet-stream", "blob", "FILE"),
        ("text/plain", "README", "FILE"),
        ("application/zip", "archive.longextension", "ZIP"),
    ],
)
def test_type_labels_are_short(content_type: str, name: str, label: str) -> None:
    assert type_label(content_type, name) == label
