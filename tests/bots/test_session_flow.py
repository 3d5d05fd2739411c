"""/ai start -> private channel -> prompt -> answer streamed in place -> /ai end."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meatlizard.bots import links
from meatlizard.bots.frames import FILE_MARKER, MARKER
from meatlizard.chat.models import ChatMessage, ChatSession, Role
from meatlizard.relay.wire import ChunkPayload, RequestPayload, ResponsePayload
from tests.bots.helpers import (
    BotsWorld,
    answered,
    end_prompt,
    payloads,
    relay_room,
    start_session,
    wait_for,
)


async def test_start_chat_and_end_in_a_private_channel(bots_world: BotsWorld) -> None:
    world, emu = bots_world, bots_world.emulator
    channel = await start_session(world)
    state = emu.core.state
    assert state.can_view(world.alice.id, channel)
    assert state.can_view(world.admin.id, channel)
    assert state.can_view(world.client_app.id, channel)
    assert not state.can_view(world.bob.id, channel)

    await emu.wait_until(lambda: world.relay.online)
    emu.post_message(channel, world.alice, "Write a short greeting.")

    async def stored() -> ChatMessage | None:
        async with world.services.sessions() as db:
            return await db.scalar(select(ChatMessage).where(ChatMessage.role == Role.ASSISTANT))

    answer = await wait_for(stored)
    assert not answer.is_fallback and answer.content

    def shown():
        replies = [
            m
            for m in emu.history(channel)
            if m.author.id == world.server_app.id
            and not m.ephemeral
            and not m.content.startswith("ML1")
        ]
        return (
            replies if replies and replies[-1].content.strip() == answer.content.strip() else None
        )

    replies = await emu.wait_until(shown)
    assert len(replies) == 1
    assert replies[0].edits[0] == "…"  # the placeholder was edited into the answer
    partial = [e for e in replies[0].edits[1:] if e != "…"]
    assert partial and all(answer.content.startswith(e.rstrip("`\n")) for e in partial)
    assert not [m for m in emu.history(channel) if m.author.id == world.client_app.id]

    prompt = await end_prompt(world, channel)
    assert "Save a transcript" in prompt.content
    emu.click_button(world.server_app, world.alice, prompt, "discard")
    await emu.wait_until(lambda: channel.id not in world.guild.channels)
    async with world.services.sessions() as db:
        session = await db.scalar(select(ChatSession))
        assert session is not None and session.ended_at is not None
        assert await links.channel_of(db, session_id=session.id) is None


@pytest.mark.max_reply_tokens(300)
async def test_relay_traffic_stays_in_the_hidden_relay_channel(bots_world: BotsWorld) -> None:
    world, emu = bots_world, bots_world.emulator
    channel, room = await start_session(world), relay_room(world)
    state = emu.core.state
    assert not state.can_view(world.alice.id, room) and not state.can_view(world.bob.id, room)
    assert state.can_view(world.client_app.id, room) and state.can_view(world.admin.id, room)

    answer = await answered(world, channel, "Write a long essay about the history of Rome.")
    assert not answer.is_fallback and answer.content

    def closed():  # type: ignore[no-untyped-def]
        found = payloads(world, room, world.client_app.id)
        return found if any(isinstance(p, ResponsePayload) for _, p in found) else None

    replies = await emu.wait_until(closed)
    # The user's channel holds the readable answer and nothing sealed.
    await emu.wait_until(
        lambda: any(answer.content.strip()[-40:] in m.content for m in emu.history(channel))
    )
    assert not [m for m in emu.history(channel) if m.content.startswith(MARKER)]
    requests = [p for _, p in payloads(world, room, world.server_app.id)]
    assert [type(p) for p in requests] == [RequestPayload]
    chunks = [p for _, p in replies if isinstance(p, ChunkPayload)]
    assert [c.sequence for c in chunks] == list(range(len(chunks)))
    assert "".join(c.text for c in chunks).strip() == answer.content.strip()
    # While the answer streams each flush carries one chunk with the text generated since the
    # last: a plain message. Only a batch over 2000 characters (the closing response repeats
    # the whole answer) needs a file.
    streaming = {id(m): m for m, p in replies if isinstance(p, ChunkPayload)}
    closing = {id(m) for m, p in replies if isinstance(p, ResponsePayload)}
    flushes = [m for key, m in streaming.items() if key not in closing]
    assert len(flushes) >= 2, "the answer came in fewer than three flushes"
    assert all(m.content != FILE_MARKER for m in flushes)
