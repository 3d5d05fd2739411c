"""An inference gateway that streams a fixed answer, part by part, when the test says so.

The small model rarely writes tables or fenced code on demand, so pages that render answers
are tested with a known answer that still travels the whole path: socket, flow, database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from meatlizard.inference.context import Conversation
from meatlizard.inference.engine import GenerationStats
from meatlizard.inference.scheduler import QueueListener
from meatlizard.inference.service import Answerer, InferenceGateway

ALIAS = "scripted"


class ScriptedInference(InferenceGateway):
    """Answer every prompt with `parts`; after each part but the last, wait for `release()`.

    "{n}" in a part becomes the number of the call, so each answer differs from the last.
    """

    default_alias = ALIAS

    def __init__(self, parts: list[str]) -> None:
        self.parts = parts
        self.conversations: list[Conversation] = []  # what the model was given, call by call
        self.sent = asyncio.Event()  # set whenever a part has been handed to the flow
        self._gate = asyncio.Event()

    @property
    def aliases(self) -> list[str]:
        return [ALIAS]

    def status(self) -> dict[str, object]:
        return {
            "state": "ready",
            "models": {ALIAS: "ready"},
            "in_memory": [ALIAS],
            "default_model": ALIAS,
            "queue_depth": 0,
        }

    def answerer(self, alias: str | None) -> Answerer:
        return Answerer(ALIAS, False)

    def release(self) -> None:
        """Let the answer go on to its next part."""
        self.sent.clear()
        self._gate.set()

    async def generate(  # type: ignore[override]
        self,
        conversation: Conversation,
        *,
        alias: str | None,
        owner: str,
        cancel: asyncio.Event,
        stats: GenerationStats,
        on_queued: QueueListener | None = None,
    ) -> AsyncIterator[str]:
        self.conversations.append(conversation)
        for index, part in enumerate(self.parts):
            stats.token_count += 1
            stats.seconds += 0.01
            yield part.replace("{n}", str(len(self.conversations)))
            self.sent.set()
            if index < len(self.parts) - 1:
                await asyncio.wait_for(self._gate.wait(), timeout=60)
                self._gate.clear()
