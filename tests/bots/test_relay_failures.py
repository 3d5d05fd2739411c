"""The relay under stress: foreign and tampered payloads, 429s, gateway drops, an offline client."""

from __future__ import annotations

import asyncio
import base64

import aiohttp
import discord
import pytest

from meatlizard.bots.frames import FILE_MARKER
from meatlizard.bots.server.chat_cog import FALLBACK_LABEL
from meatlizard.bots.splitting import DISCORD_MESSAGE_CHARS
from meatlizard.chat.models import ChatMessage
from meatlizard.dev.discord_emulator.models import Application, Channel
from meatlizard.relay.wire import RequestPayload
from tests.bots.helpers import (
    BotsWorld,
    HeldEngine,
    general,
    relay_room,
    run,
    shown_in_full,
    start_session,
    stored_answer,
    wait_for,
)

HALFWAY_PIECES = 40  # pieces of the answer generated before the gateways drop
BEFORE_THE_LIMIT_PIECES = 3  # pieces sent before the shared limit tightens


async def post_as(world: BotsWorld, app: Application, channel: Channel, content: str) -> None:
    """Post a message over the REST API with an app's token (a connection of its own)."""
    url = f"{world.emulator.api_url}/channels/{channel.id}/messages"
    headers = {"Authorization": f"Bot {app.token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.post(url, json={"content": content}) as posted,
    ):
        assert posted.status == 200, await posted.text()


async def shown_answer(world: BotsWorld, channel: Channel, answer: ChatMessage) -> None:
    def shown() -> bool:
        replies = [
            m
            for m in world.emulator.history(channel)
            if m.author.id == world.server_app.id and not m.content.startswith("ML1")
        ]
        return bool(replies) and replies[-1].content.strip().endswith(answer.content.strip()[-40:])

    await world.emulator.wait_until(shown)


def client_posts(world: BotsWorld, channel: Channel | None = None) -> list[str]:
    """Return what the client-bot posted in a channel (#ai-relay by default)."""
    room = channel or relay_room(world)
    return [m.content for m in world.emulator.history(room) if m.author.id == world.client_app.id]


async def test_foreign_and_tampered_requests_are_ignored(bots_world: BotsWorld) -> None:
    world = bots_world
    room = general(world)
    request = RequestPayload(session_id="s", request_id="r", prompt="hi")
    sealed = world.server.sealer.seal(request)
    line = base64.b64encode(sealed).decode()
    world.emulator.post_message(room, world.bob, f"ML1\n{line}")  # valid payload, wrong author
    await world.emulator.wait_until(lambda: world.client.ignored >= 1)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    channel = world.server.get_channel(room.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("ML1\n" + base64.b64encode(bytes(tampered)).decode())
    await world.emulator.wait_until(lambda: world.client.ignored >= 2)
    assert client_posts(world, room) == []


async def test_burst_under_a_tight_rate_limit_loses_no_chunk(bots_world: BotsWorld) -> None:
    """A shared-scope 429 mid-answer (someone else spent #ai-relay's window) loses no chunk.

    By construction, not by timing: the answer waits after its first pieces, the limit becomes
    one message per 10 s for everyone together, and the server-bot's own post (another
    connection, as a second server process would make) takes that window before the
    client-bot, which cannot see it coming, sends its next chunk.
    """
    world = bots_world
    held = HeldEngine(world.client.engines["smollm2"], hold_after=BEFORE_THE_LIMIT_PIECES)
    world.client.engines["smollm2"] = held
    channel = await start_session(world)
    await world.emulator.wait_until(lambda: world.relay.online)
    world.emulator.post_message(channel, world.alice, "List ten fruits, one per line.")
    await asyncio.wait_for(held.holding.wait(), 120)
    await world.emulator.wait_until(lambda: client_posts(world))
    world.emulator.set_rate_limit(limit=1, per=10.0, shared=True)
    await post_as(world, world.server_app, relay_room(world), "spends the shared window")
    held.release()
    await world.emulator.wait_until(lambda: world.emulator.rate_limit_hits)
    assert {hit.scope for hit in world.emulator.rate_limit_hits} == {"shared"}
    world.emulator.set_rate_limit()  # back to Discord's usual 5 per 5 s per channel
    answer = await stored_answer(world)
    assert not answer.is_fallback
    await shown_answer(world, channel, answer)
    # The relay checks chunk sequence numbers: a lost chunk would have failed the answer.
    assert answer.token_count and answer.token_count > BEFORE_THE_LIMIT_PIECES


async def test_gateway_drop_mid_answer_resumes_without_losing_it(bots_world: BotsWorld) -> None:
    world = bots_world
    channel = await start_session(world)
    await world.emulator.wait_until(lambda: world.relay.online)
    resumes = world.emulator.core.gateway.resumes
    world.emulator.post_message(channel, world.alice, "Tell me about lizards.")
    await world.emulator.wait_until(lambda: client_posts(world))
    assert await world.emulator.drop_gateway(world.server_app) == 1
    assert await world.emulator.drop_gateway(world.client_app) == 1
    answer = await stored_answer(world)
    assert not answer.is_fallback
    await shown_answer(world, channel, answer)
    assert world.emulator.core.gateway.resumes >= resumes + 2


async def test_offline_client_bot_gets_a_labelled_fallback(bots_world: BotsWorld) -> None:
    world = bots_world
    channel = await start_session(world)
    await world.emulator.wait_until(lambda: world.relay.online)
    await world.client.close()  # posts is_online=false to #ai-metrics on the way out

    async def offline() -> bool:  # the server-bot reads it after the emulator's last change
        return not world.relay.online

    await wait_for(offline, limit=30.0)
    world.emulator.post_message(channel, world.alice, "Hello?")
    answer = await stored_answer(world)
    assert answer.is_fallback
    await shown_answer(world, channel, answer)
    replies = [m for m in world.emulator.history(channel) if m.author.id == world.server_app.id]
    assert any(m.content.startswith(FALLBACK_LABEL) for m in replies)


# Only a safety net: 300 tokens through slow downloads on a busy 2-core machine took ~100 s.
LONG_ANSWER_GIVE_UP_S = 600.0
# SmolLM2 writes about four characters a token: enough for an answer over 2000 characters.
LONG_ANSWER_TOKENS = 560
# At temperature 0 SmolLM2 keeps listing until the token cap, in plain lines (no code fences).
LONG_PROMPT = "List 100 facts about lizards, numbered 1 to 100."


@pytest.mark.max_reply_tokens(LONG_ANSWER_TOKENS)
async def test_an_answer_over_2000_characters_survives_a_drop_and_slow_downloads_in_full(
    bots_world: BotsWorld,
) -> None:
    world = bots_world
    assert world.emulator.core.state.cdn_latency_s == (0.0, 1.5)  # files overtake each other
    held = HeldEngine(world.client.engines["smollm2"], hold_after=HALFWAY_PIECES)
    world.client.engines["smollm2"] = held
    channel = await start_session(world, temperature=0.0)
    await world.emulator.wait_until(lambda: world.relay.online)
    prompt = world.emulator.post_message(channel, world.alice, LONG_PROMPT)
    await asyncio.wait_for(held.holding.wait(), 120)  # the first part is out, the rest waits
    await world.emulator.wait_until(lambda: client_posts(world))
    assert await world.emulator.drop_gateway(world.server_app) == 1
    assert await world.emulator.drop_gateway(world.client_app) == 1
    held.release()  # the rest streams while both bots reconnect
    # Every character, in order, and nothing else: the messages after the prompt join into it.
    answer, parts = await shown_in_full(world, channel, prompt, LONG_ANSWER_GIVE_UP_S)
    assert not answer.is_fallback and answer.token_count and answer.token_count > HALFWAY_PIECES
    assert len(answer.content) > DISCORD_MESSAGE_CHARS, "the model wrote too short an answer"
    assert len(parts) >= 2 and all(len(m.content) <= DISCORD_MESSAGE_CHARS for m in parts)
    # The closing response repeats the whole answer: over 2000 characters, it went as a file.
    assert FILE_MARKER in client_posts(world)


async def test_op7_and_invalid_session_while_the_bots_run(bots_world: BotsWorld) -> None:
    world, emu = bots_world, bots_world.emulator
    channel = await start_session(world)
    await emu.wait_until(lambda: world.relay.online)
    identifies = emu.core.gateway.identifies
    emu.post_message(channel, world.alice, "Tell me about lizards.")
    await emu.wait_until(lambda: client_posts(world))
    emu.request_reconnect(world.client_app)  # op 7 mid-answer: resume, nothing missed
    emu.request_reconnect(world.server_app)
    answer = await stored_answer(world)
    assert not answer.is_fallback
    await shown_answer(world, channel, answer)
    emu.invalidate_session(world.server_app)  # op 9: a fresh IDENTIFY, then business as usual
    emu.invalidate_session(world.client_app)
    await emu.wait_until(lambda: emu.core.gateway.identifies >= identifies + 2)
    text = await run(world, world.alice, channel, "ai set-temp", temperature=0.5)
    assert text == "Temperature set to 0.5."
    await emu.wait_until(lambda: world.relay.online)
