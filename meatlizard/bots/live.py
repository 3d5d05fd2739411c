"""An answer streaming into Discord: edited in place about once a second, split past 2000 chars."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord

from meatlizard.bots.splitting import split_message

log = logging.getLogger(__name__)

EDIT_SECONDS = 1.0  # the usual pace: Discord allows about 5 edits per 5 s in a channel
MAX_EDIT_SECONDS = 8.0  # the slowest pace after repeated rate limits
FINISH_ATTEMPTS = 6  # the final text is retried with doubling pauses (1 + 2 + ... + 16 s)
RATE_LIMITED = 429
PLACEHOLDER = "…"


class LiveReply:
    """Keeps a list of messages in step with a growing text."""

    def __init__(self, channel: discord.abc.Messageable, header: str = "") -> None:
        self.channel = channel
        self.header = header
        self.text = ""
        self.messages: list[discord.Message] = []
        self.edits = 0
        self.interval = EDIT_SECONDS  # widened after rate limits, narrowed after clean edits
        self.finished = False
        self._lock = asyncio.Lock()
        self._dirty = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Show a placeholder at once, then keep it up to date."""
        await self._render()
        self._loop = asyncio.create_task(self._refresh())

    def append(self, piece: str) -> None:
        """Add streamed text; it is shown at the next refresh."""
        self.text += piece
        self._dirty.set()

    async def finish(self, footer: str = "") -> None:
        """Show the complete text (and a footer) and stop refreshing, retrying past rate limits."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        self.text += footer
        pause = EDIT_SECONDS
        for attempt in range(1, FINISH_ATTEMPTS + 1):
            try:
                await self._render()
            except discord.HTTPException as exc:
                if attempt == FINISH_ATTEMPTS:
                    log.error("a streamed answer could not be completed: %s", exc)
                    return
                log.warning("completing a streamed answer failed (%s); retrying", exc)
                await asyncio.sleep(pause)
                pause *= 2
            else:
                self.finished = True
                return

    async def _refresh(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            started = asyncio.get_running_loop().time()
            try:
                await self._render()
            except discord.HTTPException as exc:
                log.warning("could not update a streamed answer: %s", exc)
                if exc.status == RATE_LIMITED:
                    self.interval = min(self.interval * 2, MAX_EDIT_SECONDS)
            else:
                self._pace(asyncio.get_running_loop().time() - started)
            await asyncio.sleep(self.interval)

    def _pace(self, took: float) -> None:
        """Slow down when discord.py had to wait for the rate limit; speed up again otherwise."""
        if took > self.interval:
            self.interval = min(self.interval * 2, MAX_EDIT_SECONDS)
        else:
            self.interval = max(self.interval * 0.75, EDIT_SECONDS)

    async def _render(self) -> None:
        async with self._lock:
            parts = split_message(self.header + (self.text or PLACEHOLDER))
            for index, text in enumerate(parts):
                part = text if text.strip() else PLACEHOLDER  # Discord refuses empty messages
                if index < len(self.messages):
                    if self.messages[index].content != part:
                        self.messages[index] = await self.messages[index].edit(content=part)
                        self.edits += 1
                else:
                    self.messages.append(await self.channel.send(part))
            for extra in self.messages[len(parts) :]:
                await extra.delete()
            del self.messages[len(parts) :]
