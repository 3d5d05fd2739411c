"""Messages in a session channel are prompts; the answer streams back into the channel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from meatlizard.bots import links
from meatlizard.bots.live import LiveReply
from meatlizard.chat.flows import Failed, Finished, Started, Token
from meatlizard.core.errors import NotFound, ServiceError

if TYPE_CHECKING:
    from meatlizard.bots.server.bot import ServerBot

log = logging.getLogger(__name__)

FALLBACK_LABEL = "-# ⚠ fallback answer (Markov chain): the model is offline right now\n"
NOT_OWNER = "Only the owner of this chat session can talk to the model here."
INTERRUPTED = (
    "\n\n-# ✖ interrupted: the server-bot restarted before the answer was complete; "
    "send your prompt again for a full answer"
)
# How long a stopping server-bot lets answers in progress close before it disconnects.
INTERRUPT_GRACE_SECONDS = 10.0


@dataclass
class Answering:
    """An answer in progress, which a stopping server-bot interrupts."""

    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    interrupted: bool = False


class ChatCog(commands.Cog):
    """Answers prompts posted in session channels, one at a time per channel."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        self._locks: dict[int, asyncio.Lock] = {}
        self._answering: list[Answering] = []

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None or not message.content.strip():
            return
        async with self.bot.services.sessions() as db:
            session_id = await links.session_of(db, channel_id=message.channel.id)
        if session_id is None:
            return
        async with self._locks.setdefault(message.channel.id, asyncio.Lock()):
            try:
                await self.answer(message, session_id)
            except NotFound:
                await message.reply(NOT_OWNER, mention_author=False)
            except ServiceError as exc:
                await message.reply(str(exc), mention_author=False)

    @property
    def in_progress(self) -> int:
        """Return how many answers are being given now."""
        return len(self._answering)

    async def interrupt(self) -> None:
        """Stop the answers in progress, telling their channels; the bot is going away."""
        answering = list(self._answering)
        for state in answering:
            state.interrupted = True
            state.cancel.set()  # the client-bot gets a cancel; the text so far is kept
        if answering:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(state.done.wait() for state in answering)),
                    INTERRUPT_GRACE_SECONDS,
                )

    async def answer(self, message: discord.Message, session_id: str) -> None:
        """Run the prompt through the chat flow the web uses, streaming into the channel."""
        state = Answering()
        self._answering.append(state)
        try:
            await self._answer(message, session_id, state)
        finally:
            self._answering.remove(state)
            state.done.set()

    async def _answer(self, message: discord.Message, session_id: str, state: Answering) -> None:
        services = self.bot.services
        async with services.sessions() as db:
            user = await links.account_for_discord(db, discord_id=message.author.id)
        live: LiveReply | None = None
        events = services.chat.answer(
            user=user, session_id=session_id, prompt=message.content, cancel=state.cancel
        )
        async for event in events:
            if isinstance(event, Started):
                live = LiveReply(message.channel, FALLBACK_LABEL if event.is_fallback else "")
                await live.start()
            elif isinstance(event, Token) and live is not None:
                live.append(event.text)
            elif isinstance(event, Finished) and live is not None:
                await live.finish(INTERRUPTED if state.interrupted else "")
            elif isinstance(event, Failed):
                text = INTERRUPTED.strip() if state.interrupted else event.message
                if live is not None:
                    await live.finish(INTERRUPTED if state.interrupted else f"\n\n-# ✖ {text}")
                else:
                    await message.reply(text, mention_author=False)
