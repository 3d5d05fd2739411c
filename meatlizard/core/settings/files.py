"""Files and the other download links handed out (transcripts)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FileSettings(BaseModel):
    files_default_quota_bytes: int = Field(default=10 * 1024**3, ge=0)
    files_max_upload_bytes: int = Field(default=5 * 1024**3, ge=1)
    files_upload_expiry_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    # Objects that no file row names (left by a crash mid-upload) are removed once this old.
    files_orphan_grace_seconds: float = Field(default=3600.0, ge=0, le=30 * 86400)
    files_s3_redirect: bool = False  # downloads from S3 redirect to a short-lived signed URL
    files_redirect_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    # The upload page's PATCH size: keep it under a proxy's body limit (nginx: 1 MiB by default).
    files_upload_chunk_bytes: int = Field(default=32 * 1024**2, ge=64 * 1024)
    # Transcripts: how long the pre-signed download link sent to the user stays valid.
    transcript_link_hours: int = Field(default=24, ge=1, le=168)
