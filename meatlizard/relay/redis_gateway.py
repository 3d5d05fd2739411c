"""Web side of remote inference: send conversations to workers, stream their sealed replies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as redis
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.core.redis_client import connect, pending_entry
from meatlizard.inference.context import Conversation
from meatlizard.inference.engine import GenerationStats
from meatlizard.inference.scheduler import QueueListener
from meatlizard.relay import adoption
from meatlizard.relay import redis_keys as keys
from meatlizard.relay.adoption import Orphan
from meatlizard.relay.answering import request_of
from meatlizard.relay.cancels import relay_cancel, send_cancel
from meatlizard.relay.gateway import RelayFailed, RelayGateway
from meatlizard.relay.ordering import AttemptText
from meatlizard.relay.outage import RELAY_DOWN, quietly, relay_failed_on_outage, request_lost
from meatlizard.relay.presence import MetricsKeeper, WorkerInfo, read_workers
from meatlizard.relay.progress import Progress
from meatlizard.relay.queue_place import place_in_line
from meatlizard.relay.wire import (
    ChunkPayload,
    EnvelopeError,
    ErrorPayload,
    PayloadSealer,
    ResponsePayload,
)

log = logging.getLogger(__name__)

READ_BLOCK_MS = 1000
# A request no worker has claimed this soon is waiting for a free slot: its place in line is
# told then (a free worker claims within milliseconds), and again after each quiet READ_BLOCK_MS.
FIRST_PLACE_MS = 250
# How long a request may wait for a free worker before the user is told.
PICKUP_TIMEOUT_SECONDS = 120.0


STOPPED = "the inference worker stopped mid-answer; press regenerate"
RESTARTED = "the inference worker restarted the answer; press regenerate"
LOST = "part of the answer was lost; press regenerate"


class RedisRelayGateway(RelayGateway):
    """Routes conversations to client-bot workers over Redis Streams; Markov when none is up."""

    def __init__(
        self,
        redis_url: str,
        sealer: PayloadSealer,
        default_alias: str,
        *,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        metrics_interval_seconds: float = 60.0,
    ) -> None:
        self.redis = connect(redis_url)
        self._metrics = MetricsKeeper(sealer, sessions, metrics_interval_seconds)
        super().__init__(default_alias)
        self.sealer = sealer
        self._workers: dict[str, WorkerInfo] = {}
        self._watch: asyncio.Task[None] | None = None
        self.process_id = uuid.uuid4().hex  # marked alive while the watch runs

    # -- presence -------------------------------------------------------------------------

    async def refresh_workers(self) -> dict[str, WorkerInfo]:
        """Read which workers are online now, keeping their metrics now and then."""
        found = await read_workers(self.redis)
        for info, sealed in found.values():
            await self._metrics.keep(info, sealed)
        self._workers = {worker_id: info for worker_id, (info, _) in found.items()}
        return self._workers

    async def _watch_workers(self) -> None:
        while True:
            try:
                await self.redis.set(
                    keys.web_key(self.process_id), b"1", px=int(keys.WORKER_TTL_SECONDS * 1000)
                )
                await self.refresh_workers()
            except redis.RedisError as exc:
                log.warning("cannot read worker presence: %s", exc)
                self._workers = {}
            except SQLAlchemyError as exc:
                log.warning("cannot store worker metrics: %s", exc)
            await asyncio.sleep(keys.HEARTBEAT_SECONDS)

    def start(self) -> None:
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_workers())

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self.redis.aclose()

    @property
    def aliases(self) -> list[str]:
        served = {a for w in self._workers.values() for a in w.aliases}
        return sorted(served | {self.default_alias})

    def _answers_remotely(self, alias: str | None) -> bool:
        wanted = alias or self.default_alias
        return any(wanted in w.aliases for w in self._workers.values())

    def status(self) -> dict[str, object]:
        return {
            "state": "ready" if self._workers else "fallback",
            "mode": "remote",
            "workers": {
                w.worker_id: {"aliases": w.aliases, "busy": w.busy, "free": w.free}
                for w in self._workers.values()
            },
            "free_slots": sum(w.free for w in self._workers.values()),
            "models": {a: "ready" for w in self._workers.values() for a in w.aliases},
            "default_model": self.default_alias,
        }

    # -- requests -------------------------------------------------------------------------

    async def _remote(
        self,
        conversation: Conversation,
        alias: str,
        cancel: asyncio.Event,
        stats: GenerationStats,
        on_queued: QueueListener | None,
    ) -> AsyncIterator[str]:
        request_id = uuid.uuid4().hex
        request = request_of(conversation, alias=alias, request_id=request_id)
        session_id = request.session_id
        started = time.perf_counter()
        with relay_failed_on_outage(self._lost_redis):
            entry_id = await self.redis.xadd(
                keys.REQUESTS_STREAM,
                {"env": self.sealer.seal(request)},
                maxlen=keys.REQUESTS_MAXLEN,
                approximate=True,
            )
            if conversation.prompt_id is not None and self._watch is not None:
                # Should this process die, another one stores the answer (adoption.py).
                entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                orphan = Orphan(request_id, session_id, conversation.prompt_id, alias, entry)
                await adoption.note_in_flight(self.redis, orphan, self.process_id)
        relay = asyncio.create_task(
            relay_cancel(self.redis, self.sealer, cancel, session_id, request_id)
        )
        finished = False
        progress = Progress(
            entry_id, started, request_id=request_id, alias=alias, on_queued=on_queued
        )
        try:
            with relay_failed_on_outage(self._lost_redis):
                async for piece in self._read_replies(session_id, request_id, progress, stats):
                    yield piece
            finished = True
        finally:
            relay.cancel()
            if not finished:
                # Tell any worker that takes this request later not to bother.
                await quietly(
                    self.redis.set(keys.abandoned_key(request_id), b"1", ex=keys.REPLY_TTL_SECONDS)
                )
                # And stop one that took it over already: nobody reads its answer.
                await quietly(send_cancel(self.redis, self.sealer, session_id, request_id))
            await quietly(self.redis.delete(keys.reply_stream(request_id)))
            await quietly(adoption.done(self.redis, request_id))
            stats.seconds = time.perf_counter() - started
            stats.stopped = cancel.is_set()

    async def adopt_orphans(self) -> list[Orphan]:
        """Return the chat requests of web processes that died, now this process's to finish."""
        return await adoption.adopt_orphans(self.redis, self.process_id)

    async def finish_orphan(self, orphan: Orphan) -> tuple[str, GenerationStats] | None:
        """Read an adopted request's answer to its end; None when it was lost meanwhile."""
        stats = GenerationStats()
        progress = Progress(
            orphan.entry_id, time.perf_counter(), request_id=orphan.request_id, alias=orphan.alias
        )
        pieces: list[str] = []
        try:
            with relay_failed_on_outage(self._lost_redis):
                async for piece in self._read_replies(
                    orphan.session_id, orphan.request_id, progress, stats
                ):
                    pieces.append(piece)
        except RelayFailed as exc:
            log.warning("the answer to orphaned request %s is lost: %s", orphan.request_id, exc)
            return None
        finally:
            await quietly(adoption.done(self.redis, orphan.request_id))
        stats.seconds = time.perf_counter() - progress.started
        return "".join(pieces), stats

    async def _read_replies(
        self, session_id: str, request_id: str, progress: Progress, stats: GenerationStats
    ) -> AsyncIterator[str]:
        stream = keys.reply_stream(request_id)
        last_id: Any = "0-0"
        answer = AttemptText(stats, progress.started, lost=LOST, restarted=RESTARTED)
        worker: str | None = None
        block = FIRST_PLACE_MS
        while True:
            entries: Any = await self.redis.xread({stream: last_id}, block=block, count=100)
            block = READ_BLOCK_MS
            if not entries:
                await self._check_progress(progress, worker, answer.shown)
                if worker is None:
                    await self._tell_place(progress)
                continue
            progress.last = time.perf_counter()
            for entry_id, fields in entries[0][1]:
                last_id = entry_id
                if b"claim" in fields:
                    claimant = fields[b"claim"].decode()
                    if worker is not None and claimant != worker and answer.shown > 0:
                        raise RelayFailed(STOPPED)
                    worker = claimant
                    # Unknown (not seen yet) counts as a relay: waiting is the safe side.
                    seen = self._workers.get(claimant)
                    progress.resumable = seen is None or seen.resumes
                    continue
                try:
                    payload = await self.sealer.open(
                        fields.get(b"env", b""),
                        scope="reply",
                        # The same entry may be read again (by a process adopting the
                        # request); a copy of it in another entry is a replay.
                        token=f"{request_id}:{entry_id.decode()}",
                        session_id=session_id,
                        request_id=request_id,
                    )
                except EnvelopeError as exc:
                    # A forged, replayed or stale entry never reaches the user; skip it.
                    log.warning("ignoring reply entry %s of %s: %s", entry_id, request_id, exc)
                    continue
                if not isinstance(payload, ChunkPayload | ResponsePayload | ErrorPayload):
                    continue
                pieces, done = answer.push(payload)
                for piece in pieces:
                    yield piece
                if done:
                    return

    def _lost_redis(self) -> None:
        # New chats get the labelled fallback until the watch sees workers again.
        self._workers = {}

    async def _check_progress(self, progress: Progress, worker: str | None, sequence: int) -> None:
        """Raise when the request can no longer be answered (never hang)."""
        if await request_lost(self.redis, progress.request_id, progress.entry_id):
            raise RelayFailed(RELAY_DOWN)  # Redis restarted empty under the request
        online = self._workers if self._workers else await self.refresh_workers()
        if worker is not None and sequence > 0:
            if await self.redis.exists(keys.worker_key(worker)):
                return
            self._workers.pop(worker, None)  # gone: route nothing more to it
            # Vanished mid-answer. Only a server-bot relay's take-over goes on with the text
            # shown (a restarted relay, or another one online); a client-bot's would restart
            # the answer, so the user is told at once and the request is abandoned before
            # anyone spends the model on it.
            relay_online = any(w.resumes and progress.alias in w.aliases for w in online.values())
            if not (progress.resumable or relay_online):
                raise RelayFailed(STOPPED)
            stalled = time.perf_counter() - progress.last
            if stalled > keys.TAKEOVER_GRACE_SECONDS or not await self._pending(progress.entry_id):
                raise RelayFailed(STOPPED)
            return
        if not online:
            raise RelayFailed("no inference worker is online any more; please try again")
        if time.perf_counter() - progress.started > PICKUP_TIMEOUT_SECONDS:
            raise RelayFailed("every inference worker is busy; please try again in a moment")

    async def _tell_place(self, progress: Progress) -> None:
        """Tell a request still waiting for a worker how many are ahead of it."""
        if progress.on_queued is None:
            return
        ahead = await place_in_line(self.redis, progress.entry_id)
        if ahead is not None and ahead != progress.ahead:
            progress.ahead = ahead
            await progress.on_queued(ahead)

    async def _pending(self, entry_id: Any) -> bool:
        """Return whether a request entry was handed out and not acknowledged yet."""
        found = await pending_entry(self.redis, keys.REQUESTS_STREAM, keys.WORKER_GROUP, entry_id)
        return found is not None
