"""Many users at once over the chat socket: `meatlizard serve` on its embedded default.

N users (default 1, 2, 4, 8, 16) each open a socket and send a distinct prompt at the same
moment; answers are up to --tokens tokens. Reports, per N (median of --repeat runs by total):
total tokens/s, median per-user tokens/s, first-token p50/p95, and how many users were told
they wait in line. The server runs with its defaults (MODEL_PARALLEL, MODEL_THREADS) unless
--env sets others, e.g. --env MODEL_PARALLEL=1 for the one-answer-at-a-time baseline.

    .venv/bin/python bench/chat_concurrency.py [--users 1 2 4 8 16] [--tokens 150] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import websockets
from chat_stream import account_token, bench_env, start_server

TOPICS = ["sailor", "clock", "baker", "river", "robot", "farmer", "pilot", "painter"]


def prompt(i: int) -> str:
    return f"Write a story about a {TOPICS[i % len(TOPICS)]} called number {i}."


async def one_user(base: str, token: str, i: int, gate: asyncio.Event) -> dict[str, float]:
    """Open a session and socket, wait for the gate, ask, and time the answer."""
    async with httpx.AsyncClient(base_url=base) as http:
        session = await http.post(
            "/api/v1/chat/sessions",
            json={"temperature": 0.7, "system_prompt": ""},
            headers={"Authorization": f"Bearer {token}"},
        )
    url = base.replace("http", "ws") + f"/api/v1/chat/sessions/{session.json()['id']}/ws"
    async with websockets.connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        await gate.wait()
        start = time.perf_counter()
        await ws.send(json.dumps({"prompt": prompt(i)}))
        first: float | None = None
        queued = 0.0
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "queued":
                queued = 1.0
            elif frame["type"] == "token" and first is None:
                first = time.perf_counter() - start
            elif frame["type"] in ("done", "error"):
                if frame["type"] == "error" or frame.get("fallback"):
                    raise SystemExit(f"no model answer: {frame}")
                wall = time.perf_counter() - start
                tokens = float(frame["tokens"])
                return {"tokens": tokens, "wall": wall, "first": first or wall, "queued": queued}


async def round_of(base: str, token: str, users: int, offset: int) -> dict[str, float]:
    gate = asyncio.Event()
    tasks = [asyncio.create_task(one_user(base, token, offset + i, gate)) for i in range(users)]
    await asyncio.sleep(0.5)  # sockets open before everyone asks at once
    start = time.perf_counter()
    gate.set()
    results = await asyncio.gather(*tasks)
    wall = time.perf_counter() - start
    firsts = sorted(r["first"] for r in results)
    return {
        "total": sum(r["tokens"] for r in results) / wall,
        "per_user": statistics.median(r["tokens"] / r["wall"] for r in results),
        "p50": statistics.median(firsts),
        "p95": firsts[min(len(firsts) - 1, round(0.95 * (len(firsts) - 1)))],
        "queued": sum(r["queued"] for r in results),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--env", nargs="*", default=[], help="NAME=value for the server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp), args.tokens, remote=False)
        env |= dict(item.split("=", 1) for item in args.env)
        env["CHAT_RATE_LIMIT"] = "100000/minute"
        proc, base = await start_server(env)
        try:
            token = await account_token(base)
            await round_of(base, token, 1, 1000)  # warm-up
            print(f"load average before: {os.getloadavg()}  settings: {args.env or 'defaults'}")
            for users in args.users:
                runs = [await round_of(base, token, users, r * 32) for r in range(args.repeat)]
                mid = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
                print(
                    f"N={users:<3} total {mid['total']:6.1f} tok/s  per user "
                    f"{mid['per_user']:6.1f} tok/s  first token p50 {mid['p50']:.2f} s "
                    f"p95 {mid['p95']:.2f} s  queued {mid['queued']:.0f}"
                )
            print(f"load average after: {os.getloadavg()}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
