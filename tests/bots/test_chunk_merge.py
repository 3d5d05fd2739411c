"""The client-bot's chunks waiting for one relay message become one chunk in a plain message."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

from meatlizard.bots.answer_log import AnswerLog
from meatlizard.bots.chunk_merge import MergedReplies
from meatlizard.bots.frames import MARKER, RelayOutbox
from meatlizard.core.cache import MemoryCache
from meatlizard.relay.envelope import Keyring
from meatlizard.relay.replay import ReplayGuard
from meatlizard.relay.wire import ChunkPayload, PayloadSealer, RequestPayload, ResponsePayload

PIECES = 60  # a second of tokens: sealed one by one they would need a file


@dataclass
class Room:
    """A stand-in channel that keeps what is sent to it."""

    id: int = 1
    sent: list[str] = field(default_factory=list)

    async def send(self, content: str, **_: Any) -> None:
        self.sent.append(content)


def opened(sealer: PayloadSealer, content: str) -> list[Any]:
    assert content.startswith(MARKER + "\n"), "sent as a file"
    lines = content.removeprefix(MARKER + "\n").split()
    return [sealer.open_snapshot(base64.b64decode(line)) for line in lines]


async def test_pieces_queued_together_travel_as_one_chunk_in_a_plain_message() -> None:
    sealer = PayloadSealer(
        Keyring.from_hex(secrets.token_hex(32)), ReplayGuard(MemoryCache(), window_seconds=300)
    )
    room, outbox = Room(), RelayOutbox()
    request = RequestPayload(session_id="s", request_id="r", prompt="hi")
    answer = AnswerLog().add(request, room)  # type: ignore[arg-type]
    replies = MergedReplies(answer, sealer=sealer, outbox=outbox)

    def chunk(sequence: int) -> ChunkPayload:
        return ChunkPayload(session_id="s", request_id="r", sequence=sequence, text=f"w{sequence} ")

    replies.send(chunk(0))
    await outbox.flush()  # the first one goes at once, alone
    for sequence in range(1, PIECES):  # all generated before the next message may go
        replies.send(chunk(sequence))
    text = "".join(f"w{n} " for n in range(PIECES))
    replies.send(ResponsePayload(session_id="s", request_id="r", response=text, metrics={}))
    await outbox.close()

    assert len(room.sent) == 2
    first, rest = (opened(sealer, content) for content in room.sent)
    assert [(p.sequence, p.text) for p in first] == [(0, "w0 ")]
    merged, closing = rest
    assert isinstance(merged, ChunkPayload) and isinstance(closing, ResponsePayload)
    assert merged.sequence == 1 and "w0 " + merged.text == closing.response
    # Resent after a take-over as the server-bot received it: the same two chunks.
    assert [p.text for p in answer.sent() if isinstance(p, ChunkPayload)] == ["w0 ", merged.text]
