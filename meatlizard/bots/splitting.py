"""Split long answers into Discord-sized messages, keeping code fences intact across the cut."""

from __future__ import annotations

DISCORD_MESSAGE_CHARS = 2000
FENCE = "```"
CLOSE = "\n" + FENCE
# A cut prefers the last space when one is this close to the end of the room.
WORD_CUT_SLACK = 200


def split_message(text: str, limit: int = DISCORD_MESSAGE_CHARS) -> list[str]:
    """Return parts of at most `limit` chars; a fence open at a cut is closed and reopened."""
    parts: list[str] = []
    current = ""
    fence: str | None = None  # the opening line (``` plus language) of the open code block

    def flush() -> None:
        nonlocal current
        if fence is not None:
            parts.append(current.rstrip("\n") + CLOSE)
            current = fence + "\n"
        else:
            parts.append(current)
            current = ""

    for line in text.splitlines(keepends=True):
        toggles = line.lstrip().startswith(FENCE)
        opening = line.strip()
        rest = line
        while rest:
            room = limit - len(current) - len(CLOSE)
            if len(rest) <= room:
                current += rest
                break
            fresh = current == "" or (fence is not None and current == fence + "\n")
            if not fresh:
                flush()
                continue
            cut = _cut_point(rest, room)
            current += rest[:cut]
            rest = rest[cut:]
            flush()
        if toggles:
            fence = None if fence is not None else opening
    reopened_only = bool(parts) and fence is not None and current == fence + "\n"
    if current and not reopened_only:
        parts.append(current)
    return parts or [""]


def _cut_point(text: str, room: int) -> int:
    space = text.rfind(" ", max(room - WORD_CUT_SLACK, 1), room)
    return space + 1 if space > 0 else room
