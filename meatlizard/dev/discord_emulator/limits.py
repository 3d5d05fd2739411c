"""Discord's documented size limits for embeds and uploads (resources/message#embed-object)."""

from __future__ import annotations

from typing import Any

from meatlizard.dev.discord_emulator import errors
from meatlizard.dev.discord_emulator.errors import ApiError

EMBED_TOTAL_CHARS = 6000  # title, description, field names and values, footer, author
EMBED_DESCRIPTION_CHARS = 4096
EMBED_FIELDS = 25
# (key path, limit) for the single text parts of an embed
EMBED_PARTS = (
    (("title",), 256),
    (("description",), EMBED_DESCRIPTION_CHARS),
    (("footer", "text"), 2048),
    (("author", "name"), 256),
)
FIELD_NAME_CHARS, FIELD_VALUE_CHARS = 256, 1024
REQUEST_FILE_BYTES = 25 * 1024 * 1024  # all files of one message together


def _text(embed: dict[str, Any], path: tuple[str, ...]) -> str:
    value: Any = embed
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def check_embeds(embeds: list[dict[str, Any]]) -> None:
    """Refuse embeds past Discord's per-part, per-embed and per-message limits (50035)."""
    total = 0
    for index, embed in enumerate(embeds):
        for path, limit in EMBED_PARTS:
            text = _text(embed, path)
            if len(text) > limit:
                raise errors.invalid_form(
                    f"embeds.{index}.{'.'.join(path)}",
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {limit} or fewer in length.",
                )
            total += len(text)
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS:
            raise errors.invalid_form(
                f"embeds.{index}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        for number, field in enumerate(fields):
            for key, limit in (("name", FIELD_NAME_CHARS), ("value", FIELD_VALUE_CHARS)):
                text = str(field.get(key) or "")
                if len(text) > limit:
                    raise errors.invalid_form(
                        f"embeds.{index}.fields.{number}.{key}",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {limit} or fewer in length.",
                    )
                total += len(text)
    if total > EMBED_TOTAL_CHARS:
        raise errors.invalid_form(
            "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )


def check_request_files(sizes: list[int]) -> None:
    """Refuse a message whose files together pass 25 MiB (413, 40005)."""
    if sum(sizes) > REQUEST_FILE_BYTES:
        raise ApiError(413, 40005, "Request entity too large")
