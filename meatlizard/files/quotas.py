"""Storage quotas: how much a user stores and may store, reserved atomically per user."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin import audit
from meatlizard.auth.models import User
from meatlizard.core.errors import NotFound, TooLarge
from meatlizard.files.models import FileQuota, StoredFile
from meatlizard.files.policy import FilePolicy
from meatlizard.videos.models import Video


@dataclass(frozen=True)
class Usage:
    """A user's stored (and reserved) bytes against their quota."""

    used_bytes: int
    quota_bytes: int
    custom: bool  # an admin set this user's quota

    @property
    def percent(self) -> int:
        """Return the share of the quota in use, 0-100."""
        return (
            min(100, round(100 * self.used_bytes / self.quota_bytes)) if self.quota_bytes else 100
        )


def mib(size: int) -> str:
    """Return a byte count with its MiB equivalent, for messages."""
    return f"{size} bytes ({size / 1024**2:.1f} MiB)"


async def quota_of(db: AsyncSession, user_id: int, policy: FilePolicy) -> int:
    """Return how many bytes the user may store."""
    override = await db.get(FileQuota, user_id)
    return override.quota_bytes if override else policy.default_quota_bytes


async def used_by(db: AsyncSession, user_id: int) -> int:
    """Return the bytes the user's files and video renditions hold or have reserved."""
    files = select(func.sum(StoredFile.size)).where(StoredFile.owner_id == user_id)
    videos = select(func.sum(Video.storage_bytes)).where(Video.owner_id == user_id)
    return int(await db.scalar(files) or 0) + int(await db.scalar(videos) or 0)


async def usage(db: AsyncSession, user_id: int, policy: FilePolicy) -> Usage:
    """Return the user's usage and quota."""
    override = await db.get(FileQuota, user_id)
    quota = override.quota_bytes if override else policy.default_quota_bytes
    return Usage(await used_by(db, user_id), quota, override is not None)


async def usage_of_all(
    db: AsyncSession, user_ids: list[int], policy: FilePolicy
) -> dict[int, Usage]:
    """Return the usage of many users in three queries (the admin users table)."""
    sums = await db.execute(
        select(StoredFile.owner_id, func.sum(StoredFile.size))
        .where(StoredFile.owner_id.in_(user_ids))
        .group_by(StoredFile.owner_id)
    )
    used = {owner: int(total or 0) for owner, total in sums.all()}
    renditions = await db.execute(
        select(Video.owner_id, func.sum(Video.storage_bytes))
        .where(Video.owner_id.in_(user_ids))
        .group_by(Video.owner_id)
    )
    for owner, total in renditions.all():
        used[owner] = used.get(owner, 0) + int(total or 0)
    custom = await db.execute(
        select(FileQuota.user_id, FileQuota.quota_bytes).where(FileQuota.user_id.in_(user_ids))
    )
    overrides = {owner: quota for owner, quota in custom.all()}
    return {
        uid: Usage(
            used.get(uid, 0),
            overrides.get(uid, policy.default_quota_bytes),
            uid in overrides,
        )
        for uid in user_ids
    }


def check_size(size: int, policy: FilePolicy) -> None:
    """Refuse an upload larger than the operator's per-file limit."""
    if size > policy.max_upload_bytes:
        raise TooLarge(
            f"file of {mib(size)} exceeds the upload limit of {mib(policy.max_upload_bytes)}"
        )


async def lock_owner(db: AsyncSession, owner_id: int) -> None:
    """Serialise quota decisions of one user until this transaction ends.

    PostgreSQL locks the user's row; SQLite takes its single write lock (a no-op update),
    so a second upload's check waits for the first one's reservation to commit.
    """
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(select(User.id).where(User.id == owner_id).with_for_update())
    else:
        await db.execute(update(User).where(User.id == owner_id).values(id=User.id))


async def check_room(db: AsyncSession, owner_id: int, size: int, policy: FilePolicy) -> None:
    """Refuse `size` more bytes that would pass the owner's quota (call under `lock_owner`)."""
    check_size(size, policy)
    quota, used = await quota_of(db, owner_id, policy), await used_by(db, owner_id)
    if used + size > quota:
        raise TooLarge(
            f"storage quota exceeded: {mib(size)} would bring your usage to "
            f"{mib(used + size)} but your quota is {mib(quota)} "
            f"({mib(max(0, quota - used))} free)"
        )


async def set_quota(
    db: AsyncSession, *, actor: User, user_id: int, quota_bytes: int | None
) -> None:
    """Give a user their own quota, or (None) return them to the default; audited."""
    target = await db.get(User, user_id)
    if target is None:
        raise NotFound(f"no user with id {user_id}")
    current = await db.get(FileQuota, user_id)
    before = current.quota_bytes if current else None
    if quota_bytes is None:
        if current is not None:
            await db.delete(current)
    elif current is None:
        db.add(FileQuota(user_id=user_id, quota_bytes=quota_bytes))
    else:
        current.quota_bytes = quota_bytes
    audit.record(
        db,
        action="files.quota",
        actor_id=actor.id,
        target=target.username,
        before=before,
        after=quota_bytes,
    )
    await db.commit()
