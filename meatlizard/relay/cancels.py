"""Cancels: the web side tells a worker to stop an answer, sealed like all relay traffic."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as redis

from meatlizard.core.redis_client import is_outage
from meatlizard.relay import redis_keys as keys
from meatlizard.relay.outage import BACKOFF_CAP_SECONDS, quietly
from meatlizard.relay.wire import CancelPayload, EnvelopeError, PayloadSealer

log = logging.getLogger(__name__)


async def listen_for_cancels(
    client: redis.Redis, sealer: PayloadSealer, worker_id: str, cancels: dict[str, asyncio.Event]
) -> None:
    """Set the event of each request this worker is told to stop; ride out Redis restarts."""
    while True:
        try:
            await _listen(client, sealer, worker_id, cancels)
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("cancel channel lost: %s", exc)
            await asyncio.sleep(BACKOFF_CAP_SECONDS)


async def _listen(
    client: redis.Redis, sealer: PayloadSealer, worker_id: str, cancels: dict[str, asyncio.Event]
) -> None:
    pubsub = client.pubsub()
    await pubsub.subscribe(keys.CANCEL_CHANNEL)
    try:
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            try:
                payload = await sealer.open(message["data"], scope=f"cancel:{worker_id}")
            except EnvelopeError as exc:
                log.warning("ignoring a cancel that failed to open: %s", exc)
                continue
            if isinstance(payload, CancelPayload):
                event = cancels.get(payload.request_id)
                if event is not None:
                    event.set()
    finally:
        with contextlib.suppress(Exception):
            await pubsub.aclose()


async def send_cancel(
    client: redis.Redis, sealer: PayloadSealer, session_id: str, request_id: str
) -> None:
    """Tell whichever worker has the request to stop it."""
    cancel = CancelPayload(session_id=session_id, request_id=request_id)
    await client.publish(keys.CANCEL_CHANNEL, sealer.seal(cancel))


async def relay_cancel(
    client: redis.Redis,
    sealer: PayloadSealer,
    cancel: asyncio.Event,
    session_id: str,
    request_id: str,
) -> None:
    """Send the cancel once the user stops the answer (a lost Redis has nobody to tell)."""
    await cancel.wait()
    await quietly(send_cancel(client, sealer, session_id, request_id))
