"""Token frames: tokens that come faster than a reader could tell apart share one frame."""

from __future__ import annotations

import time
from collections.abc import Callable

# Tokens that come faster than this are joined into one frame: a reader sees no difference,
# and many chats at once cost the server (and the browser) a frame per step at most.
TOKEN_FRAME_SECONDS = 0.04


class TokenFrames:
    """Joins tokens arriving within TOKEN_FRAME_SECONDS of the last frame into the next one."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._held: list[str] = []
        self._sent_at = float("-inf")

    def add(self, text: str) -> str | None:
        """Return the text to send now, or None while it is held for the next frame."""
        self._held.append(text)
        now = self._clock()
        if now - self._sent_at < TOKEN_FRAME_SECONDS:
            return None
        self._sent_at = now
        return self.flush()

    def flush(self) -> str | None:
        """Return the held text (None if there is none)."""
        text, self._held = "".join(self._held), []
        return text or None
