"""Puts the client-bot's replies to one request in order before they are shown.

Relay messages overtake each other: discord.py handles each message in its own task and a
file waits for its download, a burst replayed after RESUME lands among new messages, and a
retried attempt resends what was already sent (see bots/answer_log.py). So replies that come
early are held until the gap before them fills, for at most `gap_seconds`; a closing
`response` goes out only once the chunks forwarded add up to its text, so no answer ends short.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from meatlizard.workers.wire import ChunkPayload, ErrorPayload, ResponsePayload

Reply = ChunkPayload | ResponsePayload | ErrorPayload
# What travels with each reply (the relay keeps the client-bot's envelope).
T = TypeVar("T")
# How long replies that came early wait for the one before them (a file download from
# Discord's CDN, or a resend after RESUME) before the answer counts as broken.
GAP_SECONDS = 15.0


class RepliesLost(Exception):
    """A first attempt skipped a chunk, or closed with text its chunks do not add up to."""


@dataclass
class InOrder(Generic[T]):
    """Release replies in sequence; `tolerant` holds early ones instead of failing."""

    tolerant: bool = True
    gap_seconds: float = GAP_SECONDS
    expected: int = 0
    closed: bool = False
    _text: list[str] = field(default_factory=list)
    _early: dict[int, tuple[ChunkPayload, T]] = field(default_factory=dict)
    _final: tuple[ResponsePayload, T] | None = None

    @property
    def waiting(self) -> bool:
        """Return whether replies are held for a gap before them (the caller bounds the wait)."""
        return not self.closed and (bool(self._early) or self._final is not None)

    def wait_limit(self, idle_seconds: float) -> float:
        """Return how long to wait for the next reply: `gap_seconds` at most while one is held."""
        return min(idle_seconds, self.gap_seconds) if self.waiting else idle_seconds

    def gave_up(self) -> RepliesLost:
        """Return the error for a wait that ended with a gap still open."""
        if self._early:
            return RepliesLost(f"chunk {self.expected} never came")
        return RepliesLost("the answer closed before all its chunks came")

    def push(self, payload: Reply, extra: T) -> list[tuple[Reply, T]]:
        """Return the replies that may go out now, in order (the closing one last)."""
        if self.closed:
            return []
        if isinstance(payload, ErrorPayload):
            self.closed = True
            return [(payload, extra)]
        if isinstance(payload, ResponsePayload):
            if self._final is None:
                self._final = (payload, extra)
            return self._release()
        if payload.sequence < self.expected:
            return []  # a repeat: a message replayed after a resume, or resent on a retry
        if payload.sequence > self.expected and not self.tolerant:
            raise RepliesLost(f"chunk {self.expected} never came")
        self._early.setdefault(payload.sequence, (payload, extra))
        return self._release()

    def _release(self) -> list[tuple[Reply, T]]:
        out: list[tuple[Reply, T]] = []
        while self.expected in self._early:
            chunk, extra = self._early.pop(self.expected)
            self._text.append(chunk.text)
            self.expected += 1
            out.append((chunk, extra))
        if self._final is not None and not self._early:
            response, extra = self._final
            if response.response == "".join(self._text):
                self.closed = True
                out.append((response, extra))
            elif not self.tolerant:
                raise RepliesLost("the answer closed before all its chunks came")
        return out
