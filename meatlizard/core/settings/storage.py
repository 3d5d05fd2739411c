"""Where data lives: the data folder, the database, Redis, the in-process cache and S3."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator


class StorageSettings(BaseModel):
    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    # Bytes each in-process cache may hold (the shared cache without Redis, each process's
    # decoded pastes); the least recently used entries go first.
    cache_memory_max_bytes: int = Field(default=64 * 1024**2, ge=1024**2, le=64 * 1024**3)

    s3_bucket_name: str | None = None
    s3_endpoint_url: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {value.split(':', 1)[0]!r})"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    def _storage_problem(self) -> str | None:
        if self.s3_bucket_name and not (self.s3_access_key_id and self.s3_secret_access_key):
            return "S3_BUCKET_NAME is set but S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY are missing"
        return None

    @cached_property
    def effective_database_url(self) -> str:
        """Return DATABASE_URL, or the embedded SQLite file under DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'meatlizard.db').resolve()}"
