"""A file's options: rename, move to a folder, visibility, password, expiry, download limit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.core.db import utcnow
from meatlizard.core.lifetimes import EXPIRY
from meatlizard.core.security import hash_password
from meatlizard.files.models import StoredFile
from meatlizard.files.schemas import FileUpdate
from meatlizard.files.service import clean_folder
from meatlizard.files.sniff import clean_name

EXPIRY_LABELS = {
    "10m": "10 minutes",
    "1h": "1 hour",
    "1d": "1 day",
    "1w": "1 week",
    "1M": "1 month",
    "never": "never",
}


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
        item.password_hash = await hash_password(data.password) if data.password else None
    if data.expires_in is not None:
        lifetime = EXPIRY[data.expires_in]
        item.expires_at = utcnow() + lifetime if lifetime else None
    if "max_downloads" in sent:
        item.max_downloads = data.max_downloads
    await db.commit()
    return item
