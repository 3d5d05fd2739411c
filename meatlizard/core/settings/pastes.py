"""Pastes: size, default expiry, who may create them, caching and highlighting."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from meatlizard.core.settings.rates import Rate, check_rate


class PasteSettings(BaseModel):
    paste_max_bytes: int = Field(default=512 * 1024, ge=1024, le=64 * 1024 * 1024)
    paste_default_expiry: Literal["10m", "1h", "1d", "1w", "1M", "never"] = "1w"
    paste_allow_anonymous: bool = True
    paste_rate_limit: str = "30/minute"
    # How long a shareable paste stays in the cache after a read (never past its expiry).
    paste_cache_seconds: float = Field(default=300.0, ge=1, le=86400)
    # Helper processes that highlight new pastes beside the server (0: a thread of it).
    paste_highlight_processes: int = Field(default=1, ge=0, le=64)

    _check_paste_rate = field_validator("paste_rate_limit")(check_rate)

    @property
    def paste_rate(self) -> Rate:
        return Rate.parse(self.paste_rate_limit)
