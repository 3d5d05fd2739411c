"""The web side of both relay transports: answers come from another process, with a fallback."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator

from meatlizard.inference.context import Conversation
from meatlizard.inference.engine import GenerationStats, InferenceError
from meatlizard.inference.markov import MarkovEngine
from meatlizard.inference.scheduler import FairScheduler, QueueListener
from meatlizard.inference.service import Answerer, InferenceGateway, stream_with_engine


class RelayFailed(InferenceError):
    """The process answering went away or reported an error; the message is for the user."""

    user_facing = True


class RelayGateway(InferenceGateway):
    """Sends conversations to another process; the Markov chain answers when nobody is up."""

    def __init__(self, default_alias: str) -> None:
        self.default_alias = default_alias
        self.fallback = MarkovEngine()
        self._fallback_scheduler = FairScheduler()

    @abc.abstractmethod
    def _answers_remotely(self, alias: str | None) -> bool:
        """Return whether a remote engine would answer this alias right now."""

    def _generates_remotely(self, alias: str | None) -> bool:
        """Return whether this generation goes out (by default: as `answerer` said)."""
        return self._answers_remotely(alias)

    @abc.abstractmethod
    def _remote(
        self,
        conversation: Conversation,
        alias: str,
        cancel: asyncio.Event,
        stats: GenerationStats,
        on_queued: QueueListener | None,
    ) -> AsyncIterator[str]:
        """Stream the remote engine's answer (telling `on_queued` its place while it waits)."""

    def answerer(self, alias: str | None) -> Answerer:
        if self._answers_remotely(alias):
            return Answerer(alias or self.default_alias, False)
        return Answerer(self.fallback.alias, True)

    def generate(
        self,
        conversation: Conversation,
        *,
        alias: str | None,
        owner: str,
        cancel: asyncio.Event,
        stats: GenerationStats,
        on_queued: QueueListener | None = None,
    ) -> AsyncIterator[str]:
        if not self._generates_remotely(alias):
            return stream_with_engine(
                self.fallback,
                self._fallback_scheduler,
                conversation,
                owner=owner,
                cancel=cancel,
                stats=stats,
                on_queued=on_queued,
            )
        return self._remote(conversation, alias or self.default_alias, cancel, stats, on_queued)
