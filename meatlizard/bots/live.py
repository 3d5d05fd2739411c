"""An answer streaming into Discord: edited in place about once a second, split past 2000 chars."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord

from meatlizard.bots.splitting import split_message

log = logging.getLogger(__name__)

EDIT_SECONDS = 1.0
PLACEHOLDER = "…"


class LiveReply:
    """Keeps a list of messages in step with a growing text."""

    def __init__(self, channel: discord.abc.Messageable, header: str = "") -> None:
        self.channel = channel
        self.header = header
        self.text = ""
        self.messages: list[discord.Message] = []
        self.edits = 0
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
        """Show the complete text (and a footer) and stop refreshing."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        self.text += footer
        await self._render()

    async def _refresh(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._render()
            except discord.HTTPException as exc:
                log.warning("could not update a streamed answer: %s", exc)
            await asyncio.sleep(EDIT_SECONDS)

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
