"""File logic: resumable and one-shot uploads, quotas, lookups, options, deletion, sweeping."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.auth.models import User
from meatlizard.core.db import utcnow
from meatlizard.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from meatlizard.core.guesses import Guesses
from meatlizard.core.metrics import UPLOADED_BYTES, UPLOADS
from meatlizard.core.security import same_secret, verify_password
from meatlizard.core.storage import ObjectStorage
from meatlizard.files.folders import clean_folder
from meatlizard.files.models import READY, UPLOADING, StoredFile, new_file_id
from meatlizard.files.options import UploadOptions, expiry_for, password_hash_for
from meatlizard.files.quotas import (
    FilePolicy,
    check_room,
    check_size,
    lock_owner,
    mib,
    quota_of,
    used_by,
)
from meatlizard.files.sniff import SNIFF_BYTES, clean_name, sniff

GONE = "no such file (it may have expired or been deleted)"


class PasswordRequired(Forbidden):
    """The file is password-protected and the password was missing or wrong."""


async def create_upload(
    db: AsyncSession,
    storage: ObjectStorage,
    *,
    owner: User,
    name: str,
    size: int,
    declared_type: str,
    policy: FilePolicy,
    options: UploadOptions = UploadOptions(),
) -> StoredFile:
    """Reserve room and start a resumable upload of `size` bytes.

    `options.lifetime` is how long the finished file stays, from the upload's completion;
    its password is hashed as the file's settings hash it ("" or None leaves it open).
    """
    if size < 0:
        raise InvalidInput("Upload-Length must be a non-negative integer")
    check_size(size, policy)
    password_hash = await password_hash_for(options.password)
    file_id = new_file_id()
    now = utcnow()
    item = StoredFile(
        id=file_id,
        owner_id=owner.id,
        name=clean_name(name),
        folder=clean_folder(options.folder),
        size=size,
        declared_type=declared_type[:127],
        storage_key=f"files/{owner.id}/{file_id}",
        visibility=options.visibility,
        password_hash=password_hash,
        max_downloads=options.max_downloads,
        created_at=now,
        status=UPLOADING,
        upload_expires_at=now + policy.upload_expiry,
    )
    item.expires_at = expiry_for(item, options.lifetime)
    item.upload_token = await storage.begin_upload(item.storage_key)
    try:
        # The row reserves Upload-Length: checked and inserted under the owner's lock, so
        # concurrent creations cannot both fit into the same free space.
        await lock_owner(db, owner.id)
        await check_room(db, owner.id, size, policy)
        db.add(item)
        await db.commit()
    except BaseException:
        await db.rollback()
        await storage.abort_upload(item.storage_key, item.upload_token)
        raise
    if size == 0:
        await _finish(db, storage, item)
    return item


async def append(
    db: AsyncSession,
    storage: ObjectStorage,
    *,
    item: StoredFile,
    offset: int,
    chunks: AsyncIterator[bytes],
    policy: FilePolicy,
) -> StoredFile:
    """Store the chunks at `offset` of an unfinished upload; finish it when complete."""
    if item.status != UPLOADING or item.upload_token is None:
        raise Conflict("this upload is already complete")
    if offset != item.offset:
        raise Conflict(f"Upload-Offset {offset} does not match the server's offset {item.offset}")
    quota = await quota_of(db, item.owner_id, policy)
    used = await used_by(db, item.owner_id)
    if used > quota:  # an admin lowered the quota while the upload ran
        raise TooLarge(f"storage quota exceeded: you use {mib(used)} of {mib(quota)}")
    limited = _at_most(chunks, item.size - offset, "Upload-Length")

    async def stored(new_offset: int) -> None:
        # Recorded as it goes, so a resume elsewhere after a crash or shutdown starts here.
        item.offset, item.upload_expires_at = new_offset, utcnow() + policy.upload_expiry
        await db.commit()

    item.offset = await storage.append_upload(
        item.storage_key, item.upload_token, offset, limited, progress=stored
    )
    item.upload_expires_at = utcnow() + policy.upload_expiry
    await db.commit()
    if item.offset == item.size:
        await _finish(db, storage, item)
    return item


async def _at_most(chunks: AsyncIterator[bytes], limit: int, what: str) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise TooLarge(f"the body goes past the {what}; at most {limit} more bytes fit")
        yield chunk


async def _finish(db: AsyncSession, storage: ObjectStorage, item: StoredFile) -> None:
    assert item.upload_token is not None
    await storage.finish_upload(item.storage_key, item.upload_token, item.size)
    item.content_type = await _sniff_stored(storage, item.storage_key, item.size)
    item.status, item.upload_token, item.upload_expires_at = READY, None, None
    item.completed_at = utcnow()
    if item.expires_at is not None:  # the chosen lifetime starts now, however long it took
        item.expires_at = item.completed_at + (item.expires_at - item.created_at)
    await db.commit()
    _count_upload(item.size)


def _count_upload(size: int) -> None:
    UPLOADS.labels(kind="file").inc()
    UPLOADED_BYTES.inc(size)


async def _sniff_stored(storage: ObjectStorage, key: str, size: int) -> str:
    if size == 0:
        return "text/plain"
    stream = await storage.open_stream(key, start=0, end=SNIFF_BYTES - 1)
    return sniff(b"".join([chunk async for chunk in stream]))


async def store_stream(
    db: AsyncSession,
    storage: ObjectStorage,
    *,
    owner: User,
    name: str,
    chunks: AsyncIterator[bytes],
    policy: FilePolicy,
    declared_type: str = "",
    length: int | None = None,
) -> StoredFile:
    """Store a one-shot upload (PUT or form); the quota is checked before, while and after."""
    await check_room(db, owner.id, length or 0, policy)  # early answer; decided at the end
    await db.commit()  # no transaction stays open while the body streams
    room = min(policy.max_upload_bytes, await quota_of(db, owner.id, policy))
    room -= await used_by(db, owner.id)
    file_id = new_file_id()
    key = f"files/{owner.id}/{file_id}"
    size = await storage.put_stream(key, _at_most(chunks, room, "upload limit or your quota"))
    try:
        item = StoredFile(
            id=file_id,
            owner_id=owner.id,
            name=clean_name(name),
            size=size,
            offset=size,
            status=READY,
            declared_type=declared_type[:127],
            content_type=await _sniff_stored(storage, key, size),
            storage_key=key,
            completed_at=utcnow(),
        )
        await lock_owner(db, owner.id)  # another upload may have used the room meanwhile
        await check_room(db, owner.id, size, policy)
        db.add(item)
        await db.commit()
    except BaseException:
        await db.rollback()
        await storage.delete(key)
        raise
    _count_upload(size)
    return item


async def files_for_my_stuff(db: AsyncSession, *, user: User, everyone: bool) -> list[StoredFile]:
    """List the user's files (or, with `everyone`, all files), newest first."""
    query = select(StoredFile).order_by(StoredFile.created_at.desc())
    if not everyone:
        query = query.where(StoredFile.owner_id == user.id)
    return list(await db.scalars(query))


async def get_owned(db: AsyncSession, *, file_id: str, owner: User) -> StoredFile:
    """Return one of the owner's files (finished or not); others' files do not exist."""
    item = await db.get(StoredFile, file_id)
    if item is None or item.owner_id != owner.id:
        raise NotFound(GONE)
    return item


def access_key(item: StoredFile) -> str:
    """Return the key that unlocks a password-protected file in links (changes with it)."""
    return hashlib.sha256(f"{item.id}:{item.password_hash}".encode()).hexdigest()[:32]


async def readable(
    db: AsyncSession,
    *,
    file_id: str,
    viewer: User | None,
    password: str | None = None,
    key: str | None = None,
    guesses: Guesses,
) -> StoredFile:
    """Return a finished file the viewer may read, honouring expiry, visibility and password."""
    item = await db.get(StoredFile, file_id)
    if item is None or item.status != READY:
        raise NotFound(GONE)
    is_owner = viewer is not None and (viewer.id == item.owner_id or viewer.is_admin)
    if item.expires_at is not None and item.expires_at <= utcnow():
        raise NotFound(GONE)
    if item.visibility == "private" and not is_owner:
        raise NotFound(GONE)
    if item.password_hash is not None and not is_owner:
        by_key = bool(key) and same_secret(key or "", access_key(item))
        if not by_key and password:
            await guesses.take("file", item.id)  # counted first: parallel guesses too
        if not by_key and not (password and await verify_password(item.password_hash, password)):
            raise PasswordRequired("this file needs the right password")
    return item


async def delete_file(db: AsyncSession, storage: ObjectStorage, *, item: StoredFile) -> None:
    """Delete the object (or the unfinished upload) first, then the row."""
    if item.upload_token is not None:
        await storage.abort_upload(item.storage_key, item.upload_token)
    else:
        await storage.delete(item.storage_key)
    await db.delete(item)
    await db.commit()


async def sweep(db: AsyncSession, storage: ObjectStorage, now: datetime | None = None) -> int:
    """Delete expired files and abandoned uploads, objects first; return how many went."""
    now = now or utcnow()
    stale = await db.scalars(
        select(StoredFile).where(
            or_(
                (StoredFile.status == UPLOADING) & (StoredFile.upload_expires_at <= now),
                (StoredFile.status == READY) & (StoredFile.expires_at <= now),
            )
        )
    )
    count = 0
    for item in list(stale):
        await delete_file(db, storage, item=item)
        count += 1
    return count
