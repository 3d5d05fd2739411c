"""Where backups are written: the data storage (default) or BACKUP_TARGET, a folder or bucket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from meatlizard.core.settings import Settings
from meatlizard.core.storage import LocalStorage, ObjectStorage, StorageError

DATA_STORAGE_PREFIX = "backups/"


@dataclass(frozen=True)
class BackupTarget:
    """A storage and the key prefix under which backups and their objects live."""

    storage: ObjectStorage
    prefix: str
    separate: bool  # false: backups share the data storage and die with it

    @property
    def blobs(self) -> str:
        """Prefix of the content-addressed object copies."""
        return f"{self.prefix}objects/"

    def blob_key(self, sha256: str) -> str:
        """Key of the copy of an object whose content hashes to `sha256`."""
        return f"{self.blobs}{sha256[:2]}/{sha256}"


def in_data_storage(storage: ObjectStorage) -> BackupTarget:
    """Backups under backups/ in the data storage (no BACKUP_TARGET)."""
    return BackupTarget(storage, DATA_STORAGE_PREFIX, separate=False)


def target_from_settings(settings: Settings, data_storage: ObjectStorage) -> BackupTarget:
    """Return the BACKUP_TARGET folder or bucket, or the data storage when it is unset."""
    target = settings.backup_target
    if not target:
        return in_data_storage(data_storage)
    if target.startswith("s3://"):
        from meatlizard.core.storage.s3 import S3Storage

        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        secret = settings.backup_s3_secret_access_key
        storage: ObjectStorage = S3Storage(
            bucket=bucket,
            endpoint_url=settings.backup_s3_endpoint_url,
            access_key_id=settings.backup_s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            region=settings.backup_s3_region,
        )
        prefix = prefix.strip("/")
        return BackupTarget(storage, f"{prefix}/" if prefix else "", separate=True)
    return BackupTarget(LocalStorage(Path(target)), "", separate=True)


async def open_target(settings: Settings, data_storage: ObjectStorage) -> BackupTarget:
    """Return the target ready to use, or raise StorageError naming BACKUP_TARGET."""
    try:
        target = target_from_settings(settings, data_storage)
        if target.separate:
            await target.storage.prepare()
            await target.storage.ping()
    except Exception as exc:  # a bad path, refused credentials, no such endpoint
        raise StorageError(
            f"setting BACKUP_TARGET: {settings.backup_target!r} cannot be used: {exc}"
        ) from exc
    return target


@asynccontextmanager
async def backup_target(
    settings: Settings, data_storage: ObjectStorage
) -> AsyncIterator[BackupTarget]:
    """Open the target for one command or request, and close its connections after."""
    target = await open_target(settings, data_storage)
    try:
        yield target
    finally:
        if target.separate:
            await target.storage.close()
