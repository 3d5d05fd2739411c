"""The web server: request bodies, cookies, /metrics and logging."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class WebSettings(BaseModel):
    # Largest request body of a JSON (or form) route; uploads and pastes have their own limits.
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Unset: cookies are Secure when the request came over https (directly or, from a
    # trusted proxy, by X-Forwarded-Proto); true/false force it either way.
    cookie_secure: bool | None = None
    # /metrics needs `Authorization: Bearer <this>`; unset: only clients on this machine.
    metrics_token: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "text"
