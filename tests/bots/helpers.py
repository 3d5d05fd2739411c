"""Helpers shared by the bot tests: the running world and what a test does in it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.bots.client import ClientBot
from meatlizard.bots.frames import FILE_MARKER, MARKER
from meatlizard.bots.server.bot import ServerBot
from meatlizard.chat.models import ChatMessage, ChatSession, Role
from meatlizard.core.cache import MemoryCache
from meatlizard.core.settings import Settings
from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.dev.discord_emulator.guild import Guild
from meatlizard.dev.discord_emulator.message import EPHEMERAL, Message
from meatlizard.dev.discord_emulator.models import Application, Channel, User
from meatlizard.dev.discord_emulator.models import Role as GuildRole
from meatlizard.inference.engine import GenerationRequest, GenerationStats, InferenceEngine
from meatlizard.relay.discord_gateway import DiscordRelayGateway
from meatlizard.relay.wire import PayloadSealer
from meatlizard.runtime import Services
from tests.helpers import until


@dataclass
class BotsWorld:
    """A guild with both bots running, an admin, and two ordinary members."""

    emulator: DiscordEmulator
    guild: Guild
    admin_role: GuildRole
    admin: User
    alice: User
    bob: User
    server_app: Application
    client_app: Application
    server: ServerBot
    client: ClientBot
    services: Services
    relay: DiscordRelayGateway


async def wait_for(predicate, limit: float = 120.0):  # type: ignore[no-untyped-def]
    """Poll a condition that does not show up as an emulator change (e.g. a database row)."""
    return await until(predicate, "a stored change", within=limit)


def general(world: BotsWorld) -> Channel:
    return next(c for c in world.guild.channels.values() if c.name == "general")


async def run(world: BotsWorld, invoker, channel: Channel, command: str, **options) -> str:  # type: ignore[no-untyped-def]
    """Invoke a command and return the text of its (ephemeral) answer."""
    interaction = world.emulator.invoke_command(
        world.server_app, invoker, channel, command, **options
    )

    def answered():  # type: ignore[no-untyped-def]
        message = interaction.original
        if message is None or not message.content or message.content == "…":
            return None
        return message

    message = await world.emulator.wait_until(answered)
    assert message.flags & EPHEMERAL, message.content
    return str(message.content)


def relay_room(world: BotsWorld) -> Channel:
    """Return #ai-relay, where the bots' sealed payloads of Discord chats travel."""
    assert world.server.relay_channel_id is not None
    return world.emulator.core.state.channels[world.server.relay_channel_id]


def opened(settings: Settings, messages: list[Message]) -> list[tuple[Message, Any]]:
    """Open every envelope in the relay messages among these (as an auditor with the key)."""
    reader = PayloadSealer.from_settings(settings, MemoryCache())
    found = []
    for message in messages:
        if not message.content.startswith(MARKER):
            continue
        if message.content == FILE_MARKER:
            text = message.attachments[0].data.decode()
        else:
            text = message.content.removeprefix(MARKER + "\n")
        for line in text.split():
            found.append((message, reader.open_snapshot(base64.b64decode(line))))
    return found


def payloads(world: BotsWorld, channel: Channel, author_id: int) -> list[tuple[Message, Any]]:
    """Open every envelope one author posted in a channel."""
    history = world.emulator.history(channel)
    return opened(world.services.settings, [m for m in history if m.author.id == author_id])


CODING_PRESET = {"preset": "coding-assistant"}


def session_channel(world: BotsWorld) -> Channel:
    return next(
        c
        for c in world.guild.channels.values()
        if (c.topic or "").startswith("MeatLizard chat session")
    )


async def start_session(world: BotsWorld, **options: Any) -> Channel:
    """Run /ai start as alice (the coding-assistant preset unless options say otherwise)."""
    general = next(c for c in world.guild.channels.values() if c.name == "general")
    interaction = world.emulator.invoke_command(
        world.server_app, world.alice, general, "ai start", **(options or CODING_PRESET)
    )
    await world.emulator.wait_until(
        lambda: interaction.original and "Your chat is ready" in interaction.original.content
    )
    return session_channel(world)


def answer_parts(world: BotsWorld, channel: Channel, prompt: Message) -> list[Message]:
    """Return what the server-bot posted in a session channel after a prompt: the answer."""
    history = world.emulator.history(channel, include_ephemeral=False)
    after = history[[m.id for m in history].index(prompt.id) + 1 :]
    return [m for m in after if m.author.id == world.server_app.id]


async def shown_in_full(
    world: BotsWorld, channel: Channel, prompt: Message, limit: float = 120.0
) -> tuple[ChatMessage, list[Message]]:
    """Wait until the stored answer to a prompt is shown in full; return it and its messages."""
    answer = await stored_answer(world, limit)

    def complete() -> list[Message] | None:
        parts = answer_parts(world, channel, prompt)
        shown = "".join(m.content for m in parts)
        return parts if shown.strip() == answer.content.strip() else None

    return answer, await world.emulator.wait_until(complete)


async def the_session(world: BotsWorld) -> ChatSession:
    async with world.services.sessions() as db:
        session = await db.scalar(select(ChatSession))
        assert session is not None
        return session


async def answered(world: BotsWorld, channel: Channel, prompt: str) -> ChatMessage:
    """Post a prompt in the session channel and return the model's stored answer."""
    await world.emulator.wait_until(lambda: world.relay.online)
    world.emulator.post_message(channel, world.alice, prompt)

    async def stored() -> ChatMessage | None:
        async with world.services.sessions() as db:
            return await db.scalar(select(ChatMessage).where(ChatMessage.role == Role.ASSISTANT))

    return await wait_for(stored)


async def stored_answer(world: BotsWorld, limit: float = 120.0) -> ChatMessage:
    async def found() -> ChatMessage | None:
        async with world.services.sessions() as db:
            return await db.scalar(select(ChatMessage).where(ChatMessage.role == Role.ASSISTANT))

    return await wait_for(found, limit)


ACK_DEADLINE_S = 3.0  # Discord's window for the first answer to an interaction


class _SlowSession:
    """One database session that opens only after a delay."""

    def __init__(self, session: AsyncSession, delay_s: float) -> None:
        self.session, self.delay_s = session, delay_s

    async def __aenter__(self) -> AsyncSession:
        await asyncio.sleep(self.delay_s)  # the injected slowness itself, not a wait for an event
        return await self.session.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self.session.__aexit__(*exc)


class SlowSessions:
    """A session factory whose every session opens late, like a database under load."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], delay_s: float) -> None:
        self.factory, self.delay_s = factory, delay_s

    def __call__(self) -> _SlowSession:
        return _SlowSession(self.factory(), self.delay_s)


@contextlib.contextmanager
def slow_database(world: BotsWorld, delay_s: float = ACK_DEADLINE_S + 0.5) -> Iterator[None]:
    """Make every database session the server-bot opens take longer than Discord's deadline."""
    saved = world.services.sessions
    world.services.sessions = SlowSessions(saved, delay_s)  # type: ignore[assignment]
    try:
        yield
    finally:
        world.services.sessions = saved


async def end_prompt(world: BotsWorld, channel: Channel, owner: User | None = None) -> Message:
    """Invoke /ai end and return its answer once the save/don't-save buttons are on it."""
    end = world.emulator.invoke_command(world.server_app, owner or world.alice, channel, "ai end")
    return await world.emulator.wait_until(
        lambda: end.original if end.original and end.original.components else None
    )


class HeldEngine(InferenceEngine):
    """The real engine, paused after `hold_after` pieces until the test calls `release()`.

    Makes "mid-answer" a fact rather than a race with the model's speed.
    """

    def __init__(self, engine: InferenceEngine, hold_after: int) -> None:
        self.engine, self.hold_after = engine, hold_after
        self.alias, self.context_window = engine.alias, engine.context_window
        self.holding, self._released = asyncio.Event(), asyncio.Event()

    def release(self) -> None:
        self._released.set()

    async def stream(  # type: ignore[override]
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        pieces = 0
        async for piece in self.engine.stream(request, cancel, stats):
            if pieces == self.hold_after:
                self.holding.set()
                await self._released.wait()
            pieces += 1
            yield piece

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def lease(self) -> AbstractAsyncContextManager[None]:
        return self.engine.lease()
