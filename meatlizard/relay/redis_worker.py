"""Members of the `workers` group on the request stream: claims, acks, redelivery, presence."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis

from meatlizard.core.redis_client import connect, ensure_group, is_outage, pending_entry
from meatlizard.core.tasks import being_cancelled, wait_event
from meatlizard.relay import redis_keys as keys
from meatlizard.relay.cancels import listen_for_cancels
from meatlizard.relay.outage import wait_for_redis
from meatlizard.relay.wire import ClientMetricsPayload, EnvelopeError, PayloadSealer, RequestPayload

log = logging.getLogger(__name__)

READ_BLOCK_MS = 1000
# How often a worker that cannot answer right now checks whether it can again.
UNAVAILABLE_POLL_SECONDS = 0.2

# Writes one sealed envelope to the reply stream of the request being answered.
Emit = Callable[[bytes], Awaitable[None]]


@dataclass
class WorkerState:
    """What the worker reports in its heartbeat."""

    busy: bool = False  # every slot is taken
    running: int = 0
    last_tokens_per_second: float = 0.0
    cancels: dict[str, asyncio.Event] = field(default_factory=dict)


class StreamWorker:
    """One consumer of the request stream, up to `slots` requests at once; subclasses answer."""

    # Whether a request this worker takes over goes on with the text already shown.
    resumes_answers = False

    def __init__(
        self, *, redis_url: str, sealer: PayloadSealer, worker_id: str, slots: int = 1
    ) -> None:
        self.redis = connect(redis_url)
        self.sealer = sealer
        self.worker_id = worker_id
        self.slots = slots
        self.state = WorkerState()
        self._stopping = asyncio.Event()
        self._answering: set[asyncio.Task[None]] = set()
        self._advertise_now = asyncio.Event()

    # -- what a kind of worker provides ---------------------------------------------------

    @property
    def aliases(self) -> list[str]:
        """Return the model aliases this worker answers."""
        raise NotImplementedError

    def available(self) -> bool:
        """Return whether the worker can take requests now (it is advertised only then)."""
        return True

    async def metrics(self) -> ClientMetricsPayload:
        """Return the metrics published with the worker's presence."""
        raise NotImplementedError

    async def answer(self, request: RequestPayload, *, cancel: asyncio.Event, emit: Emit) -> None:
        """Write numbered chunks, then a response or an error, for one request."""
        raise NotImplementedError

    async def abandoned(self, request: RequestPayload, *, attempt: int) -> None:
        """Note a request dropped because the web side gave up on it (nothing by default)."""

    # -- the group protocol ---------------------------------------------------------------

    async def run(self) -> None:
        """Serve requests until stop() is called, riding out Redis restarts."""
        if not await wait_for_redis(self._join, self._stopping, what=self.worker_id):
            return
        tasks = [
            asyncio.create_task(self._heartbeat_loop()),
            asyncio.create_task(
                listen_for_cancels(self.redis, self.sealer, self.worker_id, self.state.cancels)
            ),
        ]
        log.info("worker %s serving %s", self.worker_id, ", ".join(self.aliases))
        try:
            while not self._stopping.is_set():
                if not self.available():
                    await asyncio.sleep(UNAVAILABLE_POLL_SECONDS)
                    continue
                try:
                    if len(self._answering) >= self.slots:
                        await self._reap(asyncio.FIRST_COMPLETED)
                        continue
                    # Only a worker with a free slot reads: requests go to whoever has room.
                    entry = await self._next_entry()
                    if entry is not None:
                        self._answering.add(asyncio.create_task(self._handle(*entry)))
                    await self._reap(None)
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    log.warning("worker %s lost Redis: %s", self.worker_id, exc)
                    # Redis may come back empty: the group and the presence key are made anew.
                    await wait_for_redis(self._join, self._stopping, what=self.worker_id)
            await self._reap(asyncio.ALL_COMPLETED)  # stop() finishes what is under way
        finally:
            for task in self._answering:
                task.cancel()  # killed: entries stay pending and the group takes them over
            await asyncio.gather(*self._answering, return_exceptions=True)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(redis.RedisError):
                await self.redis.delete(keys.worker_key(self.worker_id))
            await self.redis.aclose()

    async def _join(self) -> None:
        await ensure_group(self.redis, keys.REQUESTS_STREAM, keys.WORKER_GROUP)
        await self._heartbeat_once()

    def availability_changed(self) -> None:
        """Advertise (or withdraw) the worker now instead of at the next heartbeat."""
        self._advertise_now.set()

    def stop(self) -> None:
        """Finish the current requests, then leave."""
        self._stopping.set()

    async def _reap(self, wait: str | None) -> None:
        """Forget finished answers (waiting as told); one that broke the worker stops it."""
        if wait is not None and self._answering:
            await asyncio.wait(self._answering, return_when=wait)
        for task in [t for t in self._answering if t.done()]:
            self._answering.discard(task)
            task.result()

    async def _next_entry(self) -> tuple[str, dict[bytes, bytes], int] | None:
        """Take over a request a vanished worker left behind, else wait for a new one."""
        claimed: Any = await self.redis.xautoclaim(
            keys.REQUESTS_STREAM,
            keys.WORKER_GROUP,
            self.worker_id,
            min_idle_time=int(keys.CLAIM_IDLE_SECONDS * 1000),
            start_id="0-0",
            count=1,
        )
        if claimed and claimed[1]:
            entry_id, fields = claimed[1][0]
            if fields:
                log.warning("taking over request entry %s from a vanished worker", entry_id)
                return entry_id.decode(), fields, await self._deliveries(entry_id)
            await self._ack(entry_id)  # the entry was trimmed away meanwhile
        read: Any = await self.redis.xreadgroup(
            keys.WORKER_GROUP,
            self.worker_id,
            {keys.REQUESTS_STREAM: ">"},
            count=1,
            block=READ_BLOCK_MS,
        )
        if not read or not read[0][1]:
            return None
        entry_id, fields = read[0][1][0]
        return str(entry_id.decode()), fields, 1

    async def _deliveries(self, entry_id: bytes) -> int:
        """Return how many times the group has handed out an entry (this take-over included)."""
        pending = await pending_entry(self.redis, keys.REQUESTS_STREAM, keys.WORKER_GROUP, entry_id)
        return max(int(pending["times_delivered"]), 2) if pending else 2

    async def _ack(self, entry_id: str | bytes) -> None:
        await self.redis.xack(keys.REQUESTS_STREAM, keys.WORKER_GROUP, entry_id)
        await self.redis.xdel(keys.REQUESTS_STREAM, entry_id)

    async def _handle(self, entry_id: str, fields: dict[bytes, bytes], attempt: int) -> None:
        try:
            request = await self.sealer.open(fields[b"env"], scope="request", token=entry_id)
        except (EnvelopeError, KeyError) as exc:
            log.warning("dropping request entry %s that failed to open: %s", entry_id, exc)
            await self._ack(entry_id)
            return
        if not isinstance(request, RequestPayload):
            log.warning("dropping entry %s: not a request", entry_id)
            await self._ack(entry_id)
            return
        if await self.redis.exists(keys.abandoned_key(request.request_id)):
            log.info("dropping request %s: the web side gave up on it", request.request_id)
            await self._ack(entry_id)
            await self.abandoned(request, attempt=attempt)
            return
        request = request.model_copy(update={"attempt": attempt})
        reply = keys.reply_stream(request.request_id)
        await self._xadd(reply, {"claim": self.worker_id, "attempt": str(attempt)})
        keeper = asyncio.create_task(self._keep_claimed(entry_id))
        try:
            await self._answer(request, reply)
        except asyncio.CancelledError:
            # Stopping mid-answer: leave the entry pending so that the group takes it over.
            log.warning("leaving request entry %s to the group: this worker stops", entry_id)
            raise
        except Exception as exc:
            if not is_outage(exc):
                await self._ack(entry_id)  # a request that breaks the worker is not retried
            raise
        else:
            await self._ack(entry_id)
        finally:
            keeper.cancel()

    async def _answer(self, request: RequestPayload, reply: str) -> None:
        cancel = asyncio.Event()
        self.state.cancels[request.request_id] = cancel
        self.state.running += 1
        self.state.busy = self.state.running >= self.slots

        async def emit(envelope: bytes) -> None:
            try:
                await self._xadd(reply, {"env": envelope})
            except BaseException:
                cancel.set()  # nobody can read the rest: stop the model now
                raise

        try:
            # The web side may have given up between the check in _handle and now: its
            # cancel went out before this request could hear it.
            if await self.redis.exists(keys.abandoned_key(request.request_id)):
                log.info("stopping request %s: the web side gave up on it", request.request_id)
                cancel.set()
            await self.answer(request, cancel=cancel, emit=emit)
        finally:
            self.state.cancels.pop(request.request_id, None)
            self.state.running -= 1
            self.state.busy = self.state.running >= self.slots

    async def _xadd(self, stream: str, fields: dict[Any, Any]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(stream, fields)
            pipe.expire(stream, keys.REPLY_TTL_SECONDS)
            await pipe.execute()

    async def _keep_claimed(self, entry_id: str) -> None:
        """Reset the entry's idle time so other workers do not take over a long answer."""
        while True:
            await asyncio.sleep(keys.HEARTBEAT_SECONDS)
            with contextlib.suppress(redis.RedisError):  # an outage ends the answer anyway
                await self.redis.xclaim(
                    keys.REQUESTS_STREAM,
                    keys.WORKER_GROUP,
                    self.worker_id,
                    min_idle_time=0,
                    message_ids=[entry_id],
                    justid=True,
                )

    async def _heartbeat_once(self) -> None:
        """Advertise the worker while it can answer (or is answering); withdraw it otherwise."""
        key = keys.worker_key(self.worker_id)
        if not (self.available() or self.state.running):
            await self.redis.delete(key)
            return
        sealed = self.sealer.seal(await self.metrics())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "aliases": json.dumps(sorted(self.aliases)),
                    "busy": "1" if self.state.busy else "0",
                    "slots": str(self.slots),
                    "free": str(max(self.slots - len(self._answering), 0)),
                    "resumes": "1" if self.resumes_answers else "0",
                    "metrics": sealed,
                },
            )
            pipe.pexpire(key, int(keys.WORKER_TTL_SECONDS * 1000))
            await pipe.execute()

    async def _heartbeat_loop(self) -> None:
        # A cancel can be lost inside a Redis call (seen as a hang at stop): the loop also
        # ends at its next turn once its task was asked to stop.
        while not being_cancelled():
            await wait_event(self._advertise_now, keys.HEARTBEAT_SECONDS)
            self._advertise_now.clear()
            try:
                await self._heartbeat_once()
            except redis.RedisError as exc:
                log.warning("heartbeat failed: %s", exc)
