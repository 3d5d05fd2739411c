"""Puts the replies to one request in order: written once, used by both transports.

`InOrder` releases chunks by sequence; `AnswerText` turns them into the text a gateway shows.
The server-bot also forwards the client-bot's replies to the web through `InOrder`.
A first attempt must arrive in order: a gap means a lost message. A retried attempt may not:
the client-bot resends what it had already sent (see bots/answer_log.py) right after
messages of the old attempt that were still queued, so replies that come early are held
until the gap before them fills. Either way a closing `response` goes out only once the
chunks forwarded add up to its text, so the web never closes an answer short.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from meatlizard.inference.engine import GenerationStats
from meatlizard.relay.gateway import RelayFailed
from meatlizard.relay.wire import ChunkPayload, ErrorPayload, ResponsePayload

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


class AnswerText:
    """The text of one answer as a gateway streams it: in order, each chunk once, then done."""

    def __init__(
        self, stats: GenerationStats, started: float, *, lost: str, tolerant: bool = False
    ) -> None:
        # Tolerant (the Discord transport): replies that overtook others wait for the gap.
        self.order: InOrder[None] = InOrder(tolerant=tolerant)
        self.stats = stats
        self.started = started  # perf_counter() when the request went out
        self.lost = lost  # what the user is told when a chunk never comes

    @property
    def shown(self) -> int:
        """Return how many chunks went out so far."""
        return self.order.expected

    def push(self, payload: Reply) -> tuple[list[str], bool]:
        """Return the pieces of text that may be shown now, and whether the answer is complete."""
        try:
            released = self.order.push(payload, None)
        except RepliesLost:
            raise RelayFailed(self.lost) from None
        pieces: list[str] = []
        for reply, _ in released:
            if isinstance(reply, ErrorPayload):
                raise RelayFailed(reply.error_message)
            if isinstance(reply, ResponsePayload):
                tokens = reply.metrics.get("tokens")
                if isinstance(tokens, int):  # a chunk may carry several tokens
                    self.stats.token_count = tokens
                return pieces, True
            if self.stats.time_to_first_token is None:
                self.stats.time_to_first_token = time.perf_counter() - self.started
            self.stats.token_count += 1
            pieces.append(reply.text)
        return pieces, False


class AttemptText:
    """The answer text of the attempt the user is shown, when a worker may start over.

    A worker that takes a request over and generates afresh numbers its replies with a higher
    attempt. Before any text is shown the newer attempt simply replaces the older; once text
    is shown it cannot be spliced onto it, so the answer fails with `restarted`. Replies left
    over from an attempt that was given up are dropped.
    """

    def __init__(self, stats: GenerationStats, started: float, *, lost: str, restarted: str):
        self._new = lambda: AnswerText(stats, started, lost=lost)
        self.answer = self._new()
        self.restarted = restarted
        self.attempt: int | None = None

    @property
    def shown(self) -> int:
        return self.answer.shown

    def push(self, payload: Reply) -> tuple[list[str], bool]:
        """Return the pieces that may be shown now, and whether the answer is complete."""
        if isinstance(payload, ChunkPayload | ResponsePayload):
            if self.attempt is None or (self.answer.shown == 0 and payload.attempt > self.attempt):
                if self.attempt is not None:  # a newer attempt before any text: follow it
                    self.answer = self._new()
                self.attempt = payload.attempt
            elif payload.attempt < self.attempt:
                return [], False
            elif payload.attempt > self.attempt:
                raise RelayFailed(self.restarted)
        return self.answer.push(payload)
