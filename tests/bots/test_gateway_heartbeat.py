"""Bots whose event loop stalls past the heartbeat are timed out (4009), resume, lose nothing."""

from __future__ import annotations

import time

from meatlizard.dev.discord_emulator.heartbeat import HEARTBEAT_GRACE
from meatlizard.dev.discord_emulator.message import Message
from tests.bots.helpers import BotsWorld, shown_in_full, start_session

HEARTBEAT_INTERVAL_S = 1.0
# Blocking work on the bots' event loop for twice the time the emulator waits for a heartbeat.
STALL_S = 2 * HEARTBEAT_INTERVAL_S * HEARTBEAT_GRACE
# The stall silences the client-bot's metrics posts too; don't let it count as offline.
TOLERATED_METRICS_GAP_S = 30.0


async def test_a_stalled_loop_times_the_bots_out_and_a_prompt_sent_meanwhile_is_answered(
    bots_world: BotsWorld,
) -> None:
    world, emu = bots_world, bots_world.emulator
    gateway = emu.core.gateway
    channel = await start_session(world)
    await emu.wait_until(lambda: world.relay.online)
    world.relay.heartbeat_seconds = TOLERATED_METRICS_GAP_S
    emu.set_heartbeat(HEARTBEAT_INTERVAL_S)  # told in HELLO: reconnect both bots onto it
    resumes = gateway.resumes
    emu.request_reconnect(world.server_app)
    emu.request_reconnect(world.client_app)
    await emu.wait_until(lambda: gateway.resumes >= resumes + 2)
    timeouts, resumes = gateway.timeouts, gateway.resumes

    prompts: list[Message] = []
    away: list[bool] = []

    async def prompt_while_away() -> None:
        """As the server-bot loses its connection, post a prompt it can only get by RESUME."""
        if not prompts:
            connections = [s.connection for s in gateway.live_sessions(world.server_app)]
            away.append(all(c is None or c.socket.closed for c in connections))
            prompts.append(emu.post_message(channel, world.alice, "Tell me about lizards."))

    world.server.add_listener(prompt_while_away, "on_disconnect")
    world.server.loop.call_soon(time.sleep, STALL_S)
    await emu.wait_until(
        lambda: gateway.timeouts >= timeouts + 2 and gateway.resumes >= resumes + 2
    )
    assert away == [True]
    answer, _ = await shown_in_full(world, channel, prompts[0])
    assert not answer.is_fallback
