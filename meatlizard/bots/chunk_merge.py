"""The client-bot's replies to one request, with the pieces queued for one batch merged.

The model yields a piece every few milliseconds and the outbox sends a batch about once a
second. Sealed one by one, a second's pieces (about 366 base64 characters each) overflow a
2000-character message, and every batch went out as a file. Merged, a batch holds one chunk
with all the text that came meanwhile: usually a plain message. The text reaches the
server-bot no later than before, since it came batched anyway.
"""

from __future__ import annotations

from pydantic import BaseModel

from meatlizard.bots.answer_log import Answer
from meatlizard.bots.frames import RelayOutbox
from meatlizard.relay.wire import ChunkPayload, PayloadSealer


class MergedReplies:
    """Queues an answer's replies; chunks waiting for the same batch become one chunk."""

    def __init__(self, answer: Answer, *, sealer: PayloadSealer, outbox: RelayOutbox) -> None:
        self.answer = answer
        self.sealer = sealer
        self.outbox = outbox
        self._open: list[str] | None = None  # texts of the chunk not sealed yet

    def send(self, payload: BaseModel) -> None:
        """Queue a reply: a chunk joins the unsealed one, anything else follows it."""
        if isinstance(payload, ChunkPayload):
            if self._open is not None:
                self._open.append(payload.text)
                return
            first, texts = payload, [payload.text]
            self._open = texts
            self.outbox.put(self.answer.channel, lambda: self._seal(first, texts))
            return
        self._open = None  # nothing joins a chunk queued before the answer's end
        self.answer.note(payload)
        self.outbox.put(self.answer.channel, self.sealer.seal(payload))

    def _seal(self, first: ChunkPayload, texts: list[str]) -> bytes:
        """Seal the merged chunk, numbered after those sealed before it (in queue order)."""
        if self._open is texts:
            self._open = None
        chunk = first.model_copy(
            update={"sequence": len(self.answer.pieces), "text": "".join(texts)}
        )
        self.answer.note(chunk)
        return self.sealer.seal(chunk)
