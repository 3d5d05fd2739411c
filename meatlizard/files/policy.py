"""The operator's upload limits, made once from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from meatlizard.core.settings import Settings


@dataclass(frozen=True)
class FilePolicy:
    """The operator's limits for uploads."""

    max_upload_bytes: int
    default_quota_bytes: int
    upload_expiry: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> FilePolicy:
        """Return the limits FILES_* set."""
        return cls(
            max_upload_bytes=settings.files_max_upload_bytes,
            default_quota_bytes=settings.files_default_quota_bytes,
            upload_expiry=timedelta(hours=settings.files_upload_expiry_hours),
        )
