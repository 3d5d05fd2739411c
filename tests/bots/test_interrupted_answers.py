"""A Discord chat's answer in progress when the server-bot stops is closed, marked interrupted."""

from __future__ import annotations

from meatlizard.bots.frames import MARKER
from meatlizard.bots.server.chat_cog import INTERRUPTED, ChatCog
from meatlizard.chat.models import MessageStatus
from meatlizard.relay.wire import CancelPayload
from tests.bots.helpers import BotsWorld, payloads, relay_room, start_session, stored_answer

PROMPT = "Write a long essay about the history of Rome."


async def test_answer_in_progress_is_marked_interrupted_when_the_server_bot_stops(
    bots_world: BotsWorld,
) -> None:
    world, emu = bots_world, bots_world.emulator
    channel = await start_session(world)
    cog = world.server.get_cog("ChatCog")
    assert isinstance(cog, ChatCog)
    await emu.wait_until(lambda: world.relay.online)
    emu.post_message(channel, world.alice, PROMPT)

    def shown() -> list[str]:
        return [
            m.content
            for m in emu.history(channel)
            if m.author.id == world.server_app.id
            and not m.ephemeral
            and not m.content.startswith(MARKER)
        ]

    # Some text is shown and the answer goes on: stop the server-bot now.
    await emu.wait_until(lambda: cog.in_progress and any(t != "…" for t in shown()))
    assert cog.in_progress
    await world.server.close()

    answer = await stored_answer(world)
    assert answer.status == MessageStatus.STOPPED and answer.content  # the text so far is kept
    replies = shown()
    assert replies[-1].endswith(INTERRUPTED.strip().split("; ")[-1])
    assert INTERRUPTED.strip() in "\n".join(replies)
    # The client-bot was told to stop generating, in #ai-relay.
    sent = [p for _, p in payloads(world, relay_room(world), world.server_app.id)]
    assert any(isinstance(p, CancelPayload) for p in sent)
    assert not [m for m in emu.history(channel) if m.content.startswith(MARKER)]
