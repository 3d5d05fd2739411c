"""Object storage: one async interface over a local folder or an S3-compatible bucket."""

from __future__ import annotations

from meatlizard.core.config import Settings
from meatlizard.core.storage.base import (
    InvalidKey,
    InvalidRange,
    ObjectInfo,
    ObjectNotFound,
    ObjectStorage,
    StorageError,
    validate_key,
)
from meatlizard.core.storage.local import LocalStorage
from meatlizard.core.storage.s3 import S3Storage

__all__ = [
    "InvalidKey",
    "InvalidRange",
    "LocalStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStorage",
    "S3Storage",
    "StorageError",
    "storage_from_settings",
    "validate_key",
]


def storage_from_settings(settings: Settings) -> ObjectStorage:
    """Return S3 storage when S3_BUCKET_NAME is set, else files under DATA_DIR/storage."""
    if settings.s3_bucket_name:
        secret = settings.s3_secret_access_key
        return S3Storage(
            bucket=settings.s3_bucket_name,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            region=settings.s3_region,
        )
    return LocalStorage(settings.data_dir / "storage")
