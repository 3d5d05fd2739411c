"""Backups (`meatlizard worker`): when, how many are kept, and where they go."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator


class BackupSettings(BaseModel):
    backup_schedule: str | None = None  # cron, UTC, e.g. "0 3 * * *"
    backup_keep_daily: int = Field(default=7, ge=1, le=365)
    backup_keep_weekly: int = Field(default=4, ge=0, le=520)
    # Where backups go: a folder on another disk, or s3://bucket/prefix. Unset: into the data
    # storage under backups/, which does not survive the loss of the machine.
    backup_target: str | None = None
    backup_s3_endpoint_url: str | None = None
    backup_s3_access_key_id: str | None = None
    backup_s3_secret_access_key: SecretStr | None = None
    backup_s3_region: str = "us-east-1"

    @field_validator("backup_schedule")
    @classmethod
    def _check_schedule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from cronsim import CronSim, CronSimError

        try:
            CronSim(value, datetime.now())
        except CronSimError as exc:
            raise ValueError(f"{value!r} is not a cron expression: {exc}") from exc
        return value

    @field_validator("backup_target")
    @classmethod
    def _check_backup_target(cls, value: str | None) -> str | None:
        if not value:
            return None
        if value.startswith("s3://"):
            bucket = value.removeprefix("s3://").split("/", 1)[0]
            if not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", bucket):
                raise ValueError(f"{value!r}: {bucket!r} is not an S3 bucket name")
            return value
        if not Path(value).is_absolute():
            raise ValueError(f"{value!r} is neither an absolute folder path nor s3://bucket/prefix")
        return value

    def _backup_target_problem(
        self, data_bucket: str | None, data_endpoint: str | None, data_dir: Path
    ) -> str | None:
        """Return why BACKUP_TARGET would not survive the loss of the data, or None."""
        target = self.backup_target or ""
        if target.startswith("s3://"):
            if bool(self.backup_s3_access_key_id) != bool(self.backup_s3_secret_access_key):
                return (
                    "setting BACKUP_S3_ACCESS_KEY_ID: set it together with "
                    "BACKUP_S3_SECRET_ACCESS_KEY (or neither)"
                )
            bucket = target.removeprefix("s3://").split("/", 1)[0]
            if bucket == data_bucket and self.backup_s3_endpoint_url in (None, data_endpoint):
                return (
                    f"setting BACKUP_TARGET: {target!r} is the data bucket S3_BUCKET_NAME; "
                    "backups need another bucket (or endpoint) to survive its loss"
                )
            return None
        s3_only = {
            "BACKUP_S3_ENDPOINT_URL": self.backup_s3_endpoint_url,
            "BACKUP_S3_ACCESS_KEY_ID": self.backup_s3_access_key_id,
            "BACKUP_S3_SECRET_ACCESS_KEY": self.backup_s3_secret_access_key,
        }
        for name, value in s3_only.items():
            if value is not None:
                return f"setting {name}: only used with BACKUP_TARGET=s3://bucket/prefix"
        if target and Path(target).resolve().is_relative_to(data_dir.resolve()):
            return (
                f"setting BACKUP_TARGET: {target!r} is inside DATA_DIR; backups need a folder "
                "on another disk to survive its loss"
            )
        return None
