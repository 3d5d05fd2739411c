"""The operator's paste settings, made once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from meatlizard.core.settings import Settings


@dataclass(frozen=True)
class PastePolicy:
    """The operator's paste settings."""

    max_bytes: int
    default_expiry: str
    allow_anonymous: bool
    highlighters: int = 0  # helper processes that highlight (0: a thread)

    @classmethod
    def from_settings(cls, settings: Settings) -> PastePolicy:
        """Return the policy PASTE_* set."""
        return cls(
            max_bytes=settings.paste_max_bytes,
            default_expiry=settings.paste_default_expiry,
            allow_anonymous=settings.paste_allow_anonymous,
            highlighters=settings.paste_highlight_processes,
        )
