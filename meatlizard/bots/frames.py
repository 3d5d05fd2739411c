"""Sealed payloads in Discord messages, and an outbox that batches them under the rate limit.

A relay message is `ML1` then one base64 envelope per line. When that does not fit in one
message the text goes in an attachment named `relay.ml1` and the content is `ML1 file`.
An envelope may be queued as a function that seals it when its batch goes out, so that what
arrives until then (the pieces of an answer) travels in it: see bots/chunk_merge.py.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import discord

from meatlizard.bots.splitting import DISCORD_MESSAGE_CHARS

log = logging.getLogger(__name__)

MARKER = "ML1"
FILE_MARKER = "ML1 file"
FILE_NAME = "relay.ml1"
# Discord allows 5 messages per 5 s per channel; one message per 1.1 s stays under it.
FLUSH_SECONDS = 1.1
SEND_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 10.0

# An envelope, or a function that seals one when its batch is sent.
Queued = bytes | Callable[[], bytes]


def is_relay(message: discord.Message) -> bool:
    """Return whether a message carries sealed payloads."""
    return message.content == FILE_MARKER or message.content.startswith(MARKER + "\n")


async def envelopes_of(message: discord.Message) -> list[bytes]:
    """Return the envelopes a relay message carries; malformed lines are skipped and logged."""
    if message.content == FILE_MARKER:
        attachment = next((a for a in message.attachments if a.filename == FILE_NAME), None)
        if attachment is None:
            log.warning("relay message %s names a file but has none", message.id)
            return []
        text = (await attachment.read()).decode("ascii", "replace")
    else:
        text = message.content.removeprefix(MARKER + "\n")
    found = []
    for line in text.split():
        try:
            found.append(base64.b64decode(line, validate=True))
        except (binascii.Error, ValueError):
            log.warning("relay message %s has a line that is not base64", message.id)
    return found


@dataclass(frozen=True)
class Frame:
    """What to send for a batch of envelopes: text, or a file when the text is too long."""

    content: str
    file_text: str | None = None

    @classmethod
    def of(cls, envelopes: list[bytes]) -> Frame:
        lines = "\n".join(base64.b64encode(e).decode() for e in envelopes)
        text = f"{MARKER}\n{lines}"
        if len(text) <= DISCORD_MESSAGE_CHARS:
            return cls(text)
        return cls(FILE_MARKER, lines)

    async def send(self, channel: discord.abc.Messageable) -> discord.Message:
        if self.file_text is None:
            return await channel.send(self.content, silent=True)
        file = discord.File(io.BytesIO(self.file_text.encode()), filename=FILE_NAME)
        return await channel.send(self.content, file=file, silent=True)


class RelayOutbox:
    """Per channel, sends the first envelope at once and coalesces the rest, in order."""

    def __init__(self, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.flush_seconds = flush_seconds
        self.sent_messages = 0
        self._pending: dict[int, list[Queued]] = {}
        self._wake: dict[int, asyncio.Event] = {}
        self._idle: dict[int, asyncio.Event] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def put(self, channel: discord.abc.Messageable, envelope: Queued) -> None:
        """Queue an envelope (or a function sealing one at send time) for a channel."""
        key = channel.id  # type: ignore[attr-defined]
        self._pending.setdefault(key, []).append(envelope)
        self._idle.setdefault(key, asyncio.Event()).clear()
        self._wake.setdefault(key, asyncio.Event()).set()
        if key not in self._tasks or self._tasks[key].done():
            self._tasks[key] = asyncio.create_task(self._drain(key, channel))

    async def flush(self) -> None:
        """Wait until everything queued so far has been sent."""
        for event in list(self._idle.values()):
            await event.wait()

    async def close(self) -> None:
        """Send what is queued, then stop."""
        with contextlib.suppress(Exception):
            await self.flush()
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _drain(self, key: int, channel: discord.abc.Messageable) -> None:
        last_sent = 0.0
        wake, idle = self._wake[key], self._idle[key]
        while True:
            await wake.wait()
            wake.clear()
            delay = last_sent + self.flush_seconds - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            batch = [e if isinstance(e, bytes) else e() for e in self._pending.pop(key, [])]
            if batch:
                await self._send(channel, Frame.of(batch))
                last_sent = time.monotonic()
            if not self._pending.get(key):
                idle.set()

    async def _send(self, channel: discord.abc.Messageable, frame: Frame) -> None:
        # discord.py waits out 429s itself; this covers what it gives up on, server errors and
        # dropped connections. Payloads are never dropped while the bot runs.
        attempt = 0
        while True:
            attempt += 1
            try:
                await frame.send(channel)
                self.sent_messages += 1
                return
            except discord.RateLimited as exc:
                await asyncio.sleep(exc.retry_after)
            except discord.HTTPException as exc:
                if exc.status != 429 and exc.status < 500:
                    log.error("relay message refused by Discord (%s); payloads lost", exc)
                    return
                log.warning("relay send failed (attempt %d): %s", attempt, exc)
                await asyncio.sleep(min(SEND_RETRY_SECONDS * attempt, MAX_RETRY_SECONDS))
            except (aiohttp.ClientError, OSError) as exc:
                log.warning("relay send failed (attempt %d): %s", attempt, exc)
                await asyncio.sleep(min(SEND_RETRY_SECONDS * attempt, MAX_RETRY_SECONDS))
