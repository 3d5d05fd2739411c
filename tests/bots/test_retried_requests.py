"""The client-bot and requests posted more than once: duplicates ignored, retries resumed."""

from __future__ import annotations

import uuid

from meatlizard.bots.frames import MARKER
from meatlizard.dev.discord_emulator.message import Message
from meatlizard.dev.discord_emulator.models import Channel
from meatlizard.relay.wire import ChunkPayload, RequestPayload, ResponsePayload
from tests.bots.helpers import BotsWorld, payloads, relay_room


def responses(world: BotsWorld, channel: Channel, request_id: str) -> list[ResponsePayload]:
    return [
        p
        for _, p in payloads(world, channel, world.client_app.id)
        if isinstance(p, ResponsePayload) and p.request_id == request_id
    ]


def chunk_texts(world: BotsWorld, channel: Channel, request_id: str) -> list[tuple[int, str]]:
    return [
        (p.sequence, p.text)
        for _, p in payloads(world, channel, world.client_app.id)
        if isinstance(p, ChunkPayload) and p.request_id == request_id
    ]


def redeliver(world: BotsWorld, message: Message) -> None:
    """Dispatch MESSAGE_CREATE of the same message to the client-bot again, as Discord may."""
    member = world.guild.members.get(message.author.id)
    sent = world.emulator.core.events.to_app(
        world.client_app, "MESSAGE_CREATE", message.payload(member)
    )
    assert sent == 1


async def test_a_request_delivered_twice_is_answered_once(bots_world: BotsWorld) -> None:
    world = bots_world
    room = relay_room(world)
    request = RequestPayload(
        session_id="dup", request_id=uuid.uuid4().hex, prompt="Say hi.", max_tokens=8
    )
    await world.server.send_payload(request.session_id, request)
    await world.emulator.wait_until(lambda: responses(world, room, request.request_id))
    posted = [m for m, p in payloads(world, room, world.server_app.id) if p == request]
    assert len(posted) == 1
    before = len(world.emulator.history(room))

    redeliver(world, posted[0])  # the very same message again (e.g. after a resume)
    await world.server.send_payload(request.session_id, request)  # same attempt, new post
    await world.emulator.wait_until(lambda: world.client.duplicates == 2)
    await world.server.outbox.flush()
    await world.client.outbox.flush()

    # Neither was answered: the only message since is the server-bot's second post.
    since = world.emulator.history(room)[before:]
    assert [m.author.id for m in since if m.content.startswith(MARKER)] == [world.server_app.id]
    assert len(responses(world, room, request.request_id)) == 1
    assert world.client.resumed == 0


async def test_a_retried_request_is_resent_not_generated_again(bots_world: BotsWorld) -> None:
    world = bots_world
    room = relay_room(world)
    request = RequestPayload(
        session_id="retry", request_id=uuid.uuid4().hex, prompt="Name two birds.", max_tokens=16
    )
    await world.server.send_payload(request.session_id, request)
    await world.emulator.wait_until(lambda: responses(world, room, request.request_id))
    first = chunk_texts(world, room, request.request_id)

    retry = request.model_copy(update={"attempt": 2})  # posted by a server-bot taking over
    await world.server.send_payload(retry.session_id, retry)
    await world.emulator.wait_until(lambda: len(responses(world, room, request.request_id)) == 2)

    assert world.client.resumed == 1 and world.client.duplicates == 0
    original, resent = responses(world, room, request.request_id)
    # The same answer, sent again from memory: the model did not run a second time.
    assert resent == original and resent.attempt == 1
    assert chunk_texts(world, room, request.request_id) == first + first
    assert [sequence for sequence, _ in first] == list(range(len(first)))
    assert "".join(text for _, text in first) == original.response
