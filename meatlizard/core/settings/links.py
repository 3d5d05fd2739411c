"""Links (the URL shortener): redirects, refused targets, click counting."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from meatlizard.core.settings.rates import check_rate


class LinkSettings(BaseModel):
    link_redirect_status: Literal[301, 302, 307, 308] = 302
    link_public_base_url: str | None = None  # e.g. https://meat.example; refuses self-links
    link_blocked_domains: list[str] = Field(default_factory=list)
    link_max_url_length: int = Field(default=2048, ge=64, le=32768)
    link_allow_anonymous: bool = True
    link_rate_limit: str = "30/minute"
    link_click_flush_seconds: float = Field(default=5.0, gt=0, le=3600)
    link_cache_seconds: float = Field(default=300.0, ge=1, le=86400)
    # A MaxMind-format country or city database (.mmdb); clicks then count countries.
    geoip_database: Path | None = None

    _check_link_rate = field_validator("link_rate_limit")(check_rate)

    @field_validator("link_public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+/?$", value):
            raise ValueError("must be a scheme and host such as https://meat.example")
        return value.rstrip("/") if value else value

    @field_validator("link_blocked_domains")
    @classmethod
    def _check_blocked_domains(cls, value: list[str]) -> list[str]:
        for domain in value:
            if not re.match(r"^[A-Za-z0-9.-]+$", domain) or domain.strip(".") != domain:
                raise ValueError(f"{domain!r} is not a domain name such as bad.example")
        return [d.lower() for d in value]

    @field_validator("geoip_database")
    @classmethod
    def _check_geoip_database(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        from meatlizard.core.geoip import check_database

        check_database(value)  # raises a ValueError that says what is wrong with the file
        return value
