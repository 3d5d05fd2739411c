"""Server-bot side of the Discord transport: an InferenceGateway that relays to the client-bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar

from pydantic import BaseModel

from meatlizard.inference.context import Conversation
from meatlizard.inference.engine import GenerationStats
from meatlizard.inference.scheduler import QueueListener
from meatlizard.inference.service import Answerer
from meatlizard.relay.answering import request_of
from meatlizard.relay.gateway import RelayFailed, RelayGateway
from meatlizard.relay.ordering import AnswerText, InOrder, Reply
from meatlizard.relay.wire import (
    CancelPayload,
    ClientMetricsPayload,
)

log = logging.getLogger(__name__)

# The client-bot counts as offline after this many heartbeat intervals without a post.
MISSED_HEARTBEATS = 3
# How long a request may wait for the client-bot's first reply, and for each next one.
PICKUP_TIMEOUT_SECONDS = 60.0
STALL_TIMEOUT_SECONDS = 120.0
LOST = "part of the answer was lost; please ask again"

# What answerer() promised to the chat flow calling generate() next in the same task: the
# answer must come from the engine the message is labelled with, even if a heartbeat
# expires in between.
_promised_remote: ContextVar[bool | None] = ContextVar("promised_remote", default=None)
# Sends a sealed payload for a session over Discord (the bot decides which channel).
Sender = Callable[[str, BaseModel], Awaitable[None]]


class DiscordRelayGateway(RelayGateway):
    """Routes conversations to the client-bot through Discord; Markov when it is offline."""

    def __init__(
        self,
        default_alias: str,
        *,
        heartbeat_seconds: float,
        pickup_timeout_seconds: float = PICKUP_TIMEOUT_SECONDS,
        stall_timeout_seconds: float = STALL_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(default_alias)
        self.heartbeat_seconds = heartbeat_seconds
        self.pickup_timeout = pickup_timeout_seconds
        self.stall_timeout = stall_timeout_seconds
        self._pending: dict[str, asyncio.Queue[Reply]] = {}
        self._last_heartbeat: float | None = None
        self._client_online = False
        self.last_metrics: ClientMetricsPayload | None = None
        self._send: Sender | None = None

    def attach(self, sender: Sender) -> None:
        """Give the gateway its way out: the server-bot, once it is connected."""
        self._send = sender

    # -- what the server-bot feeds in ------------------------------------------------------

    def heartbeat(self, metrics: ClientMetricsPayload) -> None:
        """Note a metrics post of the client-bot (its heartbeat)."""
        self._last_heartbeat = time.monotonic()
        self._client_online = metrics.is_online
        self.last_metrics = metrics

    def deliver(self, payload: Reply) -> bool:
        """Hand a reply to the request waiting for it; return False when none is."""
        queue = self._pending.get(payload.request_id)
        if queue is None:
            return False
        queue.put_nowait(payload)
        return True

    # -- InferenceGateway --------------------------------------------------------------------

    @property
    def online(self) -> bool:
        """Return whether the client-bot has posted metrics recently and says it is online."""
        if self._send is None or self._last_heartbeat is None or not self._client_online:
            return False
        age = time.monotonic() - self._last_heartbeat
        return age <= MISSED_HEARTBEATS * self.heartbeat_seconds

    @property
    def aliases(self) -> list[str]:
        return [self.default_alias]

    def _answers_remotely(self, alias: str | None) -> bool:
        return self.online

    def answerer(self, alias: str | None) -> Answerer:
        _promised_remote.set(self.online)
        return super().answerer(alias)

    def _generates_remotely(self, alias: str | None) -> bool:
        remote = _promised_remote.get()
        _promised_remote.set(None)
        return self.online if remote is None else remote

    def status(self) -> dict[str, object]:
        age = None if self._last_heartbeat is None else time.monotonic() - self._last_heartbeat
        return {
            "state": "ready" if self.online else "fallback",
            "mode": "discord",
            "client_bot_online": self.online,
            "last_heartbeat_seconds_ago": None if age is None else round(age, 1),
            "default_model": self.default_alias,
            "queue_depth": len(self._pending),
        }

    async def _remote(
        self,
        conversation: Conversation,
        alias: str,
        cancel: asyncio.Event,
        stats: GenerationStats,
        on_queued: QueueListener | None,  # the client-bot answers every request it gets
    ) -> AsyncIterator[str]:
        assert self._send is not None
        request = request_of(conversation, alias=alias, request_id=uuid.uuid4().hex)
        queue: asyncio.Queue[Reply] = asyncio.Queue()
        self._pending[request.request_id] = queue
        started = time.perf_counter()
        finished = False
        try:
            await self._send(request.session_id, request)
            answer = AnswerText(stats, started, lost=LOST, tolerant=True)
            while True:
                payload = await self._next(queue, cancel, answer.order)
                if payload is None:
                    return  # stopped by the user
                pieces, finished = answer.push(payload)  # finished: no cancel to send
                for piece in pieces:
                    yield piece
                if finished:
                    return
        finally:
            self._pending.pop(request.request_id, None)
            stats.seconds = time.perf_counter() - started
            stats.stopped = cancel.is_set()
            if not finished:
                with contextlib.suppress(Exception):
                    cancel_payload = CancelPayload(
                        session_id=request.session_id, request_id=request.request_id
                    )
                    await self._send(request.session_id, cancel_payload)

    async def _next(
        self, queue: asyncio.Queue[Reply], cancel: asyncio.Event, order: InOrder[None]
    ) -> Reply | None:
        getter = asyncio.ensure_future(queue.get())
        stopper = asyncio.ensure_future(cancel.wait())
        first = order.expected == 0 and not order.waiting
        timeout = order.wait_limit(self.pickup_timeout if first else self.stall_timeout)
        try:
            done, _ = await asyncio.wait(
                {getter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (getter, stopper):
                task.cancel()
        if getter in done:
            return getter.result()
        if stopper in done:
            return None
        if order.waiting:
            log.warning("relay: %s", order.gave_up())
            raise RelayFailed(LOST)
        if first:
            self._client_online = False  # next prompts get the labelled fallback at once
            raise RelayFailed("the inference bot did not answer; please try again")
        raise RelayFailed("the inference bot stopped mid-answer; please ask again")
