"""Lifetimes and visibilities users pick for shared things (pastes, files), in one place."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

Expiry = Literal["10m", "1h", "1d", "1w", "1M", "never"]
Visibility = Literal["public", "unlisted", "private"]

# How long each choice lasts; None never expires.
EXPIRY: dict[str, timedelta | None] = {
    "10m": timedelta(minutes=10),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
    "1M": timedelta(days=30),
    "never": None,
}
