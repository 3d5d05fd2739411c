"""Web chats over Discord: the server-bot answers the request stream by asking the client-bot.

The server-bot is one more member of the `workers` group (claims, acks, redelivery, cancels
and presence come from StreamWorker). It is advertised only while the client-bot is online
over Discord, posts each request (re-sealed) in the session's audit channel (#ai-relay when
its user sees that channel), and writes the client-bot's sealed replies unchanged to the
request's reply stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from meatlizard.core.errors import ServiceError
from meatlizard.relay.discord_gateway import (
    PICKUP_TIMEOUT_SECONDS,
    STALL_TIMEOUT_SECONDS,
    DiscordRelayGateway,
)
from meatlizard.relay.ordering import InOrder, RepliesLost, Reply
from meatlizard.relay.redis_worker import Emit, StreamWorker
from meatlizard.relay.wire import (
    CancelPayload,
    ClientMetricsPayload,
    ErrorPayload,
    GpuStats,
    PayloadSealer,
    RequestPayload,
)

log = logging.getLogger(__name__)

UNREACHABLE = "the inference bot cannot be reached right now; please try again"
LOST = "part of the answer was lost; press regenerate"

# Posts a sealed payload for a web session in Discord (creating its channel when needed).
WebSender = Callable[[str, BaseModel], Awaitable[None]]


class DiscordWebRelay(StreamWorker):
    """A worker whose engine is the client-bot at the other end of Discord."""

    resumes_answers = True  # the client-bot resends what it had sent, then goes on

    def __init__(
        self,
        *,
        redis_url: str,
        sealer: PayloadSealer,
        worker_id: str,
        relay: DiscordRelayGateway,
        pickup_timeout_seconds: float = PICKUP_TIMEOUT_SECONDS,
        stall_timeout_seconds: float = STALL_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(redis_url=redis_url, sealer=sealer, worker_id=worker_id)
        self.relay = relay
        self.pickup_timeout = pickup_timeout_seconds
        self.stall_timeout = stall_timeout_seconds
        self._send: WebSender | None = None
        self._pending: dict[str, asyncio.Queue[tuple[Reply, bytes]]] = {}

    def attach(self, sender: WebSender) -> None:
        """Give the relay its way out: the server-bot, once it is connected."""
        self._send = sender

    def deliver(self, payload: Reply, envelope: bytes) -> bool:
        """Hand a client-bot reply to the web request waiting for it; False when none is."""
        queue = self._pending.get(payload.request_id)
        if queue is None:
            return False
        queue.put_nowait((payload, envelope))
        return True

    # -- StreamWorker ---------------------------------------------------------------------

    @property
    def aliases(self) -> list[str]:
        return self.relay.aliases

    def available(self) -> bool:
        return self._send is not None and self.relay.online

    async def metrics(self) -> ClientMetricsPayload:
        last = self.relay.last_metrics
        if last is not None:
            return last.model_copy(update={"timestamp": time.time()})
        return ClientMetricsPayload(
            timestamp=time.time(), gpu_stats=GpuStats(), tokens_per_second=0.0, is_online=True
        )

    async def answer(self, request: RequestPayload, *, cancel: asyncio.Event, emit: Emit) -> None:
        assert self._send is not None
        sid, rid = request.session_id, request.request_id
        queue: asyncio.Queue[tuple[Reply, bytes]] = asyncio.Queue()
        self._pending[rid] = queue
        cancelled = False
        # Replies may overtake each other; a retry also resends what it had (answer_log.py).
        replies: InOrder[bytes] = InOrder()
        try:
            try:
                await self._send(sid, request)
            except ServiceError as exc:  # e.g. no room for the session's channel
                await self._fail(request, emit, str(exc), posted=False)
                return
            except Exception:
                log.exception("cannot post web request %s in Discord", rid)
                await self._fail(request, emit, UNREACHABLE)
                return
            while not replies.closed:
                if cancel.is_set() and not cancelled:
                    cancelled = True  # the client-bot stops and closes the answer
                    await self._send(sid, CancelPayload(session_id=sid, request_id=rid))
                first = replies.expected == 0 and not replies.waiting
                limit = replies.wait_limit(self.pickup_timeout if first else self.stall_timeout)
                try:
                    reply = await self._next(queue, cancel, limit=limit, cancelled=cancelled)
                except TimeoutError:
                    if replies.waiting:
                        raise replies.gave_up() from None
                    raise
                if reply is None:
                    continue  # the stop button: pass it on, keep forwarding until closed
                for _, envelope in replies.push(*reply):
                    await emit(envelope)
        except RepliesLost as exc:
            log.warning("web request %s: %s", rid, exc)
            await self._fail(request, emit, LOST)
        except TimeoutError:
            message = (
                "the inference bot did not answer; please try again"
                if replies.expected == 0
                else "the inference bot stopped mid-answer; press regenerate"
            )
            await self._fail(request, emit, message)
        finally:
            self._pending.pop(rid, None)

    async def abandoned(self, request: RequestPayload, *, attempt: int) -> None:
        """Stop the client-bot if it still generates an answer that nobody waits for."""
        if attempt > 1 and self._send is not None:
            sid, rid = request.session_id, request.request_id
            with contextlib.suppress(Exception):
                await self._send(sid, CancelPayload(session_id=sid, request_id=rid))

    async def _next(
        self,
        queue: asyncio.Queue[tuple[Reply, bytes]],
        cancel: asyncio.Event,
        *,
        limit: float,
        cancelled: bool,
    ) -> tuple[Reply, bytes] | None:
        """Return the next reply, None when the stop button was pressed meanwhile."""
        getter = asyncio.ensure_future(queue.get())
        stopper = None if cancelled else asyncio.ensure_future(cancel.wait())
        waiters: set[asyncio.Future[Any]] = {getter} if stopper is None else {getter, stopper}
        try:
            done, _ = await asyncio.wait(
                waiters, timeout=limit, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in waiters:
                task.cancel()
        if getter in done:
            return getter.result()
        if stopper is not None and stopper in done:
            return None
        raise TimeoutError

    async def _fail(
        self, request: RequestPayload, emit: Emit, message: str, *, posted: bool = True
    ) -> None:
        """Close the web request with an error and tell the client-bot (if it got it) to stop."""
        sid, rid = request.session_id, request.request_id
        log.warning("web request %s over Discord failed: %s", rid, message)
        await emit(
            self.sealer.seal(ErrorPayload(session_id=sid, request_id=rid, error_message=message))
        )
        if posted and self._send is not None:
            with contextlib.suppress(Exception):
                await self._send(sid, CancelPayload(session_id=sid, request_id=rid))
