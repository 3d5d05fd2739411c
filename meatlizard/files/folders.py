"""Folders of files: cleaning a folder path, listing a folder with its subfolders."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.files.models import StoredFile
from meatlizard.files.sniff import clean_name


def clean_folder(folder: str) -> str:
    """Return a folder path of cleaned names separated by '/', without empty or dot parts."""
    parts = [clean_name(part) for part in folder.replace("\\", "/").split("/") if part.strip(" .")]
    return "/".join(parts)[:255]


async def list_files(
    db: AsyncSession, *, owner: User, folder: str | None = None
) -> list[StoredFile]:
    """List the owner's files, newest first; a folder narrows it to that folder and below."""
    query = select(StoredFile).where(StoredFile.owner_id == owner.id)
    if folder is not None:
        query = query.where(in_folder(clean_folder(folder)))
    return list(await db.scalars(query.order_by(StoredFile.created_at.desc())))


def in_folder(folder: str) -> ColumnElement[bool]:
    """Match files in `folder` or its subfolders: `work` takes `work/2024`, not `workshop`."""
    if not folder:
        return StoredFile.folder == ""
    below = folder + "/"
    # substr rather than LIKE: no wildcards to escape, and case-sensitive on both backends.
    return or_(
        StoredFile.folder == folder,
        func.substr(StoredFile.folder, 1, len(below)) == below,
    )


async def list_folders(db: AsyncSession, *, owner: User) -> list[str]:
    """Return the owner's folders that hold files, with their parents, in tree order."""
    query = (
        select(StoredFile.folder)
        .where(StoredFile.owner_id == owner.id, StoredFile.folder != "")
        .distinct()
    )
    found: set[str] = set()
    for folder in await db.scalars(query):
        parts = folder.split("/")
        found.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return sorted(found, key=lambda folder: folder.split("/"))
