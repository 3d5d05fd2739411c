"""How much a Python web process costs in front of llama.cpp's own `llama-server`.

The issue's road (b) would run `llama-server --parallel N` as a managed subprocess and relay its
streams through the web process. This measures that road's ceiling before building it: N users
at once against `llama-server` directly (the anchor) and through a thin FastAPI process on
uvicorn that does what the chat socket does per answer (read the upstream stream, hold tokens
for at most 40 ms, write JSON frames to a WebSocket). Rounds alternate between the two, the
first going first and last in turn, so the machine's drift falls on both alike.

    make bench/out/llama-server/bin/llama-server
    .venv/bin/python bench/llama_server_proxy.py [--users 8] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import llama_server_anchor as anchor
import websockets
from chat_concurrency import prompt
from chat_stream import free_port
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from meatlizard.core.settings import bundled_model_path
from meatlizard.inference.threads import usable_cpus

FRAME_SECONDS = 0.04  # as the chat socket: a token waits at most this long for company

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.websocket("/ws")
async def relay(socket: WebSocket) -> None:
    """Stream each asked answer from llama-server to the socket in coalesced frames."""
    await socket.accept()
    async with httpx.AsyncClient(base_url=os.environ["UPSTREAM"], timeout=600) as http:
        while True:
            try:
                asked = json.loads(await socket.receive_text())
            except WebSocketDisconnect:
                return
            messages = [{"role": "user", "content": asked["prompt"]}]
            count, held, sent_at = 0, [], 0.0
            async for delta in anchor.deltas(http, messages, asked["tokens"]):
                count += 1
                held.append(delta)
                if time.monotonic() - sent_at >= FRAME_SECONDS:
                    await socket.send_text(json.dumps({"type": "token", "text": "".join(held)}))
                    held, sent_at = [], time.monotonic()
            if held:
                await socket.send_text(json.dumps({"type": "token", "text": "".join(held)}))
            await socket.send_text(json.dumps({"type": "done", "tokens": count}))


async def proxied_user(url: str, i: int, tokens: int, gate: asyncio.Event) -> dict[str, float]:
    async with websockets.connect(url) as ws:
        await gate.wait()
        start = time.perf_counter()
        await ws.send(json.dumps({"prompt": prompt(i), "tokens": tokens}))
        first: float | None = None
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "token" and first is None:
                first = time.perf_counter() - start
            elif frame["type"] == "done":
                wall = time.perf_counter() - start
                return {"tokens": float(frame["tokens"]), "wall": wall, "first": first or wall}


async def direct_user(base: str, i: int, tokens: int, gate: asyncio.Event) -> dict[str, float]:
    messages = [{"role": "user", "content": prompt(i)}]
    result = await anchor.ask(base, messages, tokens, gate)
    return {k: float(v) for k, v in result.items() if k != "text"}


async def round_of(way: str, base: str, url: str, users: int, offset: int, tokens: int) -> float:
    """Return the total tokens/s of one round of `users` asking at once."""
    gate = asyncio.Event()
    tasks = [
        asyncio.create_task(
            direct_user(base, offset + i, tokens, gate)
            if way == "direct"
            else proxied_user(url, offset + i, tokens, gate)
        )
        for i in range(users)
    ]
    await asyncio.sleep(0.5)  # connections open before everyone asks at once
    start = time.perf_counter()
    gate.set()
    results = await asyncio.gather(*tasks)
    return sum(r["tokens"] for r in results) / (time.perf_counter() - start)


def start_web(port: int, upstream: str) -> subprocess.Popen[bytes]:
    """Start this module's app on uvicorn, the platform's server, in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent),
         "llama_server_proxy:app", "--port", str(port), "--log-level", "warning"],
        env=os.environ | {"UPSTREAM": upstream},
    )  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--llama-server", type=Path, default=Path("bench/out/llama-server/bin/llama-server")
    )
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=6, help="rounds of each way")
    parser.add_argument("--tokens", type=int, default=150)
    args = parser.parse_args()
    port, web_port = free_port(), free_port()
    server = anchor.start(
        args.llama_server,
        bundled_model_path(),
        port=port,
        parallel=args.users,
        threads=len(usable_cpus()),
        ctx_per_slot=2048,
    )
    base = f"http://127.0.0.1:{port}"
    web = start_web(web_port, base)
    try:
        await anchor.wait_ready(base, server)
        await anchor.wait_ready(f"http://127.0.0.1:{web_port}", web, "the web process")
        url = f"ws://127.0.0.1:{web_port}/ws"
        rates: dict[str, list[float]] = {"direct": [], "proxied": []}
        await round_of("direct", base, url, args.users, 1000, 20)  # warm-up
        for r in range(args.rounds):
            for way in ("direct", "proxied") if r % 2 == 0 else ("proxied", "direct"):
                rate = await round_of(way, base, url, args.users, r * args.users, args.tokens)
                rates[way].append(rate)
                print(f"round {r + 1} {way:8} {rate:6.1f} tok/s", flush=True)
        direct, proxied = (statistics.median(rates[w]) for w in ("direct", "proxied"))
        print(
            f"N={args.users}: llama-server directly {direct:.1f} tok/s, through a Python web "
            f"process {proxied:.1f} tok/s (x{proxied / direct:.2f}, medians of {args.rounds})"
        )
    finally:
        for proc in (web, server):
            proc.terminate()
            proc.wait(timeout=60)


if __name__ == "__main__":
    asyncio.run(main())
