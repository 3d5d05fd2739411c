"""A file's options: rename, move to a folder, visibility, password, expiry, download limit.

They are chosen when an upload starts (tus Upload-Metadata) and changed later (PATCH).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import get_args

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.core.db import utcnow
from meatlizard.core.errors import InvalidInput
from meatlizard.core.lifetimes import EXPIRY, Visibility
from meatlizard.core.security import hash_password
from meatlizard.files.folders import clean_folder
from meatlizard.files.models import UPLOADING, StoredFile
from meatlizard.files.schemas import MAX_DOWNLOADS_LIMIT, MAX_PASSWORD_CHARS, FileUpdate
from meatlizard.files.sniff import clean_name

MAX_FOLDER_CHARS = 255
VISIBILITIES = get_args(Visibility)
DIGITS = re.compile(r"[0-9]+")
EXPIRY_LABELS = {
    "10m": "10 minutes",
    "1h": "1 hour",
    "1d": "1 day",
    "1w": "1 week",
    "1M": "1 month",
    "never": "never",
}


def _choice(meta: dict[str, str], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = meta.get(key) or default
    if value not in allowed:
        raise InvalidInput(
            f"Upload-Metadata {key} must be one of {', '.join(allowed)}, not {value!r}"
        )
    return value


@dataclass(frozen=True)
class UploadOptions:
    """The sharing options Upload-Metadata chose for a new file, checked."""

    folder: str = ""
    visibility: str = "unlisted"
    lifetime: timedelta | None = None
    password: str | None = None
    max_downloads: int | None = None


def upload_options(meta: dict[str, str]) -> UploadOptions:
    """Check the optional folder, visibility, expires_in, password and max_downloads."""
    folder = meta.get("folder", "")
    if len(folder) > MAX_FOLDER_CHARS:
        raise InvalidInput(f"Upload-Metadata folder is longer than {MAX_FOLDER_CHARS} characters")
    password = meta.get("password") or None
    if password is not None and len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInput(
            f"Upload-Metadata password is longer than {MAX_PASSWORD_CHARS} characters"
        )
    return UploadOptions(
        folder=folder,
        visibility=_choice(meta, "visibility", VISIBILITIES, "unlisted"),
        lifetime=EXPIRY[_choice(meta, "expires_in", tuple(EXPIRY), "never")],
        password=password,
        max_downloads=_download_limit(meta.get("max_downloads") or None),
    )


def _download_limit(value: str | None) -> int | None:
    if value is None:
        return None
    if not DIGITS.fullmatch(value) or not 1 <= int(value) <= MAX_DOWNLOADS_LIMIT:
        raise InvalidInput(
            "Upload-Metadata max_downloads must be a whole number from 1 to "
            f"{MAX_DOWNLOADS_LIMIT}, not {value!r}",
        )
    return int(value)


def expiry_for(item: StoredFile, lifetime: timedelta | None) -> datetime | None:
    """Return `expires_at` for a file given this lifetime, counted from its completion.

    A finished file's counts from now. While it is still uploading, the field only carries
    the lifetime, from `created_at`; finishing the upload restarts it (service._finish).
    """
    if lifetime is None:
        return None
    return (item.created_at if item.status == UPLOADING else utcnow()) + lifetime


async def password_hash_for(password: str | None) -> str | None:
    """Hash a file's password; no password (None or "") means no hash."""
    return await hash_password(password) if password else None


async def update_file(db: AsyncSession, *, item: StoredFile, data: FileUpdate) -> StoredFile:
    """Rename, move or change the sharing options of a file."""
    sent = data.model_fields_set
    if data.name is not None:
        item.name = clean_name(data.name)
    if data.folder is not None:
        item.folder = clean_folder(data.folder)
    if data.visibility is not None:
        item.visibility = data.visibility
    if "password" in sent:
        item.password_hash = await password_hash_for(data.password)
    if data.expires_in is not None:
        item.expires_at = expiry_for(item, EXPIRY[data.expires_in])
    if "max_downloads" in sent:
        item.max_downloads = data.max_downloads
    await db.commit()
    return item
