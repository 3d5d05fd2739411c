"""/ai start -> private channel -> prompt -> answer streamed in place -> /ai end."""

from __future__ import annotations

from sqlalchemy import select

from meatlizard.bots import links
from meatlizard.chat.models import ChatMessage, ChatSession, Role
from tests.bots.helpers import BotsWorld, end_prompt, start_session, wait_for


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
    relayed = [m for m in emu.history(channel) if m.author.id == world.client_app.id]
    assert relayed and all(m.content.startswith("ML1") for m in relayed)

    prompt = await end_prompt(world, channel)
    assert "Save a transcript" in prompt.content
    emu.click_button(world.server_app, world.alice, prompt, "discard")
    await emu.wait_until(lambda: channel.id not in world.guild.channels)
    async with world.services.sessions() as db:
        session = await db.scalar(select(ChatSession))
        assert session is not None and session.ended_at is not None
        assert await links.channel_of(db, session_id=session.id) is None
