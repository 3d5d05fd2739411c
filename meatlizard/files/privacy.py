"""A user's files (rows and stored bytes) in export, anonymise and delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.files.models import READY, StoredFile
from meatlizard.files.sniff import clean_name
from meatlizard.gdpr.providers import PersonalData, PersonalObject, Scrub


async def _files(db: AsyncSession, user: User) -> list[StoredFile]:
    query = select(StoredFile).where(StoredFile.owner_id == user.id).order_by(StoredFile.created_at)
    return list(await db.scalars(query))


def _zip_path(item: StoredFile) -> str:
    folder = f"{item.folder}/" if item.folder else ""
    return f"files/{folder}{item.id}-{clean_name(item.name)}"


async def _export(db: AsyncSession, user: User) -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "name": f.name,
            "folder": f.folder,
            "size": f.size,
            "status": f.status,
            "content_type": f.content_type,
            "visibility": f.visibility,
            "has_password": f.password_hash is not None,
            "download_count": f.download_count,
            "max_downloads": f.max_downloads,
            "created_at": f.created_at.isoformat(),
            "completed_at": f.completed_at.isoformat() if f.completed_at else None,
            "expires_at": f.expires_at.isoformat() if f.expires_at else None,
            "in_zip": _zip_path(f) if f.status == READY else None,
        }
        for f in await _files(db, user)
    ]


async def _anonymize(db: AsyncSession, user: User, scrub: Scrub) -> int:
    """Rewrite the name out of file names and folders (the bytes are the user's own)."""
    changed = 0
    for item in await _files(db, user):
        name, folder = scrub(item.name)[:255], scrub(item.folder)[:255]
        declared = scrub(item.declared_type)[:127]
        if (name, folder, declared) != (item.name, item.folder, item.declared_type):
            item.name, item.folder, item.declared_type = name, folder, declared
            changed += 1
    return changed


async def _count(db: AsyncSession, user: User) -> int:
    owned = select(func.count()).select_from(StoredFile).where(StoredFile.owner_id == user.id)
    return int(await db.scalar(owned) or 0)


async def _objects(db: AsyncSession, user: User) -> list[PersonalObject]:
    return [
        PersonalObject(
            _zip_path(f) if f.status == READY else None, f.storage_key, f.size, f.upload_token
        )
        for f in await _files(db, user)
    ]


PERSONAL_DATA = PersonalData(
    "files", _export, _anonymize, _count, _objects
)  # registered by the runtime
