"""What the client-bot answered lately: a retried request is resumed, never generated twice.

A request is posted again when the server-bot that posted it died and another one took the
request over; the new post carries the next `attempt`. The client-bot then resends the
replies it already sent for that request (freshly sealed) and, if it is still generating,
goes on in the channel of the new post. A post with an attempt it has already seen is a
duplicate (Discord delivered one message twice) and is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import discord
from pydantic import BaseModel

from meatlizard.relay.wire import ChunkPayload, ErrorPayload, RequestPayload, ResponsePayload

# Requests remembered; a retry or a duplicate comes within minutes, long before eviction.
REMEMBERED_ANSWERS = 500


@dataclass
class Answer:
    """One request being (or having been) answered, and everything sent for it so far."""

    request: RequestPayload
    channel: discord.abc.Messageable
    attempts: set[int]
    pieces: list[str] = field(default_factory=list)
    closing: ResponsePayload | ErrorPayload | None = None

    def note(self, payload: BaseModel) -> None:
        """Remember a reply as it is sent."""
        if isinstance(payload, ChunkPayload):
            self.pieces.append(payload.text)
        elif isinstance(payload, ResponsePayload | ErrorPayload):
            self.closing = payload

    def sent(self) -> list[BaseModel]:
        """Return the replies sent so far, in order, to send them again."""
        sid, rid = self.request.session_id, self.request.request_id
        replies: list[BaseModel] = [
            ChunkPayload(
                session_id=sid,
                request_id=rid,
                sequence=sequence,
                text=text,
                attempt=self.request.attempt,
            )
            for sequence, text in enumerate(self.pieces)
        ]
        if self.closing is not None:
            replies.append(self.closing)
        return replies


class AnswerLog:
    """The last REMEMBERED_ANSWERS requests, by request id, oldest first."""

    def __init__(self, limit: int = REMEMBERED_ANSWERS) -> None:
        self.limit = limit
        self._answers: dict[str, Answer] = {}

    def get(self, request_id: str) -> Answer | None:
        return self._answers.get(request_id)

    def add(self, request: RequestPayload, channel: discord.abc.Messageable) -> Answer:
        """Record a request about to be answered."""
        answer = Answer(request, channel, {request.attempt})
        self._answers[request.request_id] = answer
        while len(self._answers) > self.limit:
            self._answers.pop(next(iter(self._answers)))
        return answer
