"""Object storage: one async interface over a local folder or an S3-compatible bucket.

The S3 backend (`meatlizard.core.storage.s3`) is imported only when S3 is configured:
aiobotocore, botocore and aiohttp add about 19 MiB to every process that imports them, and a
server on the local folder never needs them.
"""

from __future__ import annotations

from meatlizard.core.settings import Settings
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

__all__ = [
    "InvalidKey",
    "InvalidRange",
    "LocalStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStorage",
    "StorageError",
    "storage_from_settings",
    "validate_key",
]


def storage_from_settings(settings: Settings) -> ObjectStorage:
    """Return S3 storage when S3_BUCKET_NAME is set, else files under DATA_DIR/storage."""
    if settings.s3_bucket_name:
        from meatlizard.core.storage.s3 import S3Storage

        secret = settings.s3_secret_access_key
        return S3Storage(
            bucket=settings.s3_bucket_name,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            region=settings.s3_region,
        )
    return LocalStorage(settings.data_dir / "storage")
