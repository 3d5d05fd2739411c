"""Many users at once: the platform's chat socket next to llama.cpp's own `llama-server`.

N users (default 1, 2, 4, 8, 16) each send a distinct prompt at the same moment; answers are
up to --tokens tokens. Reports, per N (median of --repeat runs by total): total tokens/s,
median per-user tokens/s, first-token p50/p95, how many users were told they wait in line,
and the ratio to the anchor measured in the same run. Modes:
- `llama-server`: the anchor, `llama-server --parallel 8` on the same GGUF and threads;
- `embedded`: `meatlizard serve` on its embedded default (the model in a llama-server
  subprocess of the web process, MODEL_ENGINE=auto; --llama-server names the binary);
- `relay`: the web process plus one client-bot over Redis Streams (BENCH_REDIS_URL);
- `in-process`, `in-process-relay`: the same with MODEL_ENGINE=in-process (llama.cpp decoding
  inside the web process or client-bot).
Then one conversation of --turns turns: the first token of the last turn against the first's
(prefix reuse). The servers run with their defaults (MODEL_PARALLEL, MODEL_THREADS) unless
--env sets others.

    make bench-chat   # builds the anchor, then runs all three modes, rounds alternating
    .venv/bin/python bench/chat_concurrency.py --modes embedded [--users 1 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import llama_server_anchor as anchor
import redis.asyncio as redis
import websockets
from chat_stream import (
    BENCH_REDIS,
    account_token,
    bench_env,
    free_port,
    launch_worker,
    new_session,
    start_server,
)

from meatlizard.core.settings import bundled_model_path
from meatlizard.inference.threads import usable_cpus

Rows = dict[int, dict[str, float]]  # by N; 0 holds the conversation's turns
TOPICS = ["sailor", "clock", "baker", "river", "robot", "farmer", "pilot", "painter"]
SUBJECTS = ["tea", "bridges", "owls", "glass", "maps", "bees", "salt", "kites", "moss", "bells"]


def prompt(i: int) -> str:
    return f"Write a story about a {TOPICS[i % len(TOPICS)]} called number {i}."


def follow_up(turn: int) -> str:
    """A conversation's turn: it shares no opening words with the rounds' prompts, so its first
    turn finds nothing of itself in a cache those rounds filled (both servers reuse prefixes)."""
    return f"Explain, in your own words, something about {SUBJECTS[turn % len(SUBJECTS)]}."


async def one_user(base: str, token: str, i: int, gate: asyncio.Event) -> dict[str, float]:
    """Open a session and socket, wait for the gate, ask, and time the answer."""
    session_id = await new_session(base, token, temperature=0.7)
    async with open_socket(base, token, session_id) as ws:
        await gate.wait()
        return await ask_socket(ws, prompt(i))


def open_socket(base: str, token: str, session_id: str) -> websockets.connect:
    url = base.replace("http", "ws") + f"/api/v1/chat/sessions/{session_id}/ws"
    return websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"})


async def ask_socket(ws: websockets.ClientConnection, text: str) -> dict[str, float]:
    start = time.perf_counter()
    await ws.send(json.dumps({"prompt": text}))
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


async def anchor_user(base: str, i: int, tokens: int, gate: asyncio.Event) -> dict[str, float]:
    messages = [{"role": "user", "content": prompt(i)}]
    result = await anchor.ask(base, messages, tokens, gate)
    return {k: float(v) for k, v in result.items() if k != "text"} | {"queued": 0.0}


async def round_of(target: Target, users: int, offset: int, tokens: int) -> dict[str, float]:
    gate = asyncio.Event()
    tasks = [
        asyncio.create_task(
            anchor_user(target.base, offset + i, tokens, gate)
            if target.token is None
            else one_user(target.base, target.token, offset + i, gate)
        )
        for i in range(users)
    ]
    await asyncio.sleep(0.5)  # sockets open before everyone asks at once
    start = time.perf_counter()
    pids = with_children(target.pids)  # a llama-server the web process or client-bot started
    client_cpu, server_cpu = own_cpu(), sum(process_cpu(p) for p in pids)
    gate.set()
    results = await asyncio.gather(*tasks)
    wall = time.perf_counter() - start
    client_cpu = own_cpu() - client_cpu
    server_cpu = sum(process_cpu(p) for p in pids) - server_cpu
    tokens = sum(r["tokens"] for r in results)
    firsts = sorted(r["first"] for r in results)
    return {
        "total": tokens / wall,
        # Where the two cores went: the bench's own client and the server's processes.
        "client_ms": 1000 * client_cpu / tokens,
        "server_ms": 1000 * server_cpu / tokens,
        "server_cores": server_cpu / wall,
        "shortest": min(r["tokens"] for r in results),
        "per_user": statistics.median(r["tokens"] / r["wall"] for r in results),
        "p50": statistics.median(firsts),
        "p95": firsts[min(len(firsts) - 1, round(0.95 * (len(firsts) - 1)))],
        "queued": sum(r["queued"] for r in results),
    }


@dataclass
class Target:
    """One server under test: the platform (with an account token) or the anchor (none)."""

    mode: str
    base: str
    token: str | None
    pids: list[int]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a live process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_children(pids: list[int]) -> list[int]:
    """Return the processes and their children (their threads' children, as /proc lists)."""
    found = list(pids)
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            found += [int(child) for child in children]
    return found


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.asynccontextmanager
async def serving(mode: str, args: argparse.Namespace, tmp: Path) -> AsyncIterator[Target]:
    """Start what a mode measures; stop it afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if mode == "llama-server":
            if args.llama_server is None:
                raise SystemExit("--llama-server PATH is needed (make bench-chat builds it)")
            port = free_port()
            threads = int(dict(e.split("=", 1) for e in args.env).get("MODEL_THREADS", 0))
            procs.append(
                anchor.start(
                    args.llama_server,
                    bundled_model_path(),
                    port=port,
                    parallel=args.parallel,
                    threads=threads or len(usable_cpus()),
                    ctx_per_slot=2048,
                )
            )
            base = f"http://127.0.0.1:{port}"
            await anchor.wait_ready(base, procs[0])
            yield Target(mode, base, None, [procs[0].pid])
            return
        remote = mode in ("relay", "in-process-relay")
        env = bench_env(tmp / mode, args.tokens, remote=remote)
        env |= dict(item.split("=", 1) for item in args.env)
        env["CHAT_RATE_LIMIT"] = "100000/minute"
        if mode.startswith("in-process"):
            env["MODEL_ENGINE"] = "in-process"
        elif args.llama_server is not None:
            env["MODEL_SERVER_BINARY"] = str(args.llama_server)
        if remote:
            client = redis.Redis.from_url(BENCH_REDIS)
            await client.flushdb()
            await client.aclose()
            procs.append(launch_worker(env, "bench-worker"))
        proc, base = await start_server(env, workers=1 if remote else 0)
        procs.append(proc)
        yield Target(mode, base, await account_token(base), [p.pid for p in procs])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


async def turns(target: Target, count: int, tokens: int) -> tuple[float, float]:
    """Return the first-token seconds of a conversation's first and last turn."""
    firsts: list[float] = []
    if target.token is None:
        messages: list[dict[str, str]] = []
        for turn in range(count):
            messages.append({"role": "user", "content": follow_up(turn)})
            result = await anchor.ask(target.base, messages, tokens)
            firsts.append(float(result["first"]))
            messages.append({"role": "assistant", "content": str(result["text"])})
        return firsts[0], firsts[-1]
    session_id = await new_session(target.base, target.token, temperature=0.7)
    async with open_socket(target.base, target.token, session_id) as ws:
        for turn in range(count):
            firsts.append((await ask_socket(ws, follow_up(turn)))["first"])
    return firsts[0], firsts[-1]


async def measure(targets: list[Target], args: argparse.Namespace) -> dict[str, Rows]:
    """Run every N's rounds on each target; with several (--alternate), round by round in
    turn, the first target going first and last alternately, so that the machine's drift
    (15-20 % over minutes on a shared box) falls on all of them alike."""
    for target in targets:
        await round_of(target, 1, 1000, args.tokens)  # warm-up
    runs: dict[str, dict[int, list[dict[str, float]]]] = {t.mode: {} for t in targets}
    for users in args.users:
        for r in range(args.repeat):
            for target in targets if r % 2 == 0 else targets[::-1]:
                row = await round_of(target, users, r * 32, args.tokens)
                runs[target.mode].setdefault(users, []).append(row)
    results: dict[str, Rows] = {}
    for target in targets:
        # The median, or with an even count the lower of the middle two (not the upper).
        rows: Rows = {
            users: sorted(rs, key=lambda r: r["total"])[(len(rs) - 1) // 2]
            for users, rs in runs[target.mode].items()
        }
        if args.turns > 1:
            first, last = await turns(target, args.turns, args.tokens)
            rows[0] = {"first_turn": first, "last_turn": last, "ratio": last / first}
        results[target.mode] = rows
    return results


def report(mode: str, rows: Rows, anchor_rows: Rows, turn_count: int) -> None:
    print(f"-- {mode}")
    for users, mid in rows.items():
        if users == 0:
            print(
                f"turn 1 first token {mid['first_turn']:.2f} s, turn {turn_count} "
                f"{mid['last_turn']:.2f} s (x{mid['ratio']:.2f} of turn 1)"
            )
            continue
        ratio = ""
        if users in anchor_rows and mode != "llama-server":
            base = anchor_rows[users]
            ratio = (
                f"  | vs llama-server: total x{mid['total'] / base['total']:.2f}, "
                f"p95 first token x{mid['p95'] / base['p95']:.2f}"
            )
        print(
            f"N={users:<3} total {mid['total']:6.1f} tok/s  per user "
            f"{mid['per_user']:6.1f} tok/s  first token p50 {mid['p50']:.2f} s "
            f"p95 {mid['p95']:.2f} s  queued {mid['queued']:.0f}  shortest answer "
            f"{mid['shortest']:.0f} tokens  CPU per token: server "
            f"{mid['server_ms']:.1f} ms ({mid['server_cores']:.2f} cores), client "
            f"{mid['client_ms']:.2f} ms{ratio}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["embedded"], choices=MODES)
    parser.add_argument("--users", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--turns", type=int, default=10, help="1 skips the conversation")
    parser.add_argument("--parallel", type=int, default=8, help="llama-server --parallel")
    parser.add_argument("--llama-server", type=Path, help="the anchor's binary")
    parser.add_argument("--env", nargs="*", default=[], help="NAME=value for the servers")
    parser.add_argument(
        "--alternate",
        action="store_true",
        help="start every mode's servers at once and alternate their rounds (the idle ones wait)",
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}  settings: {args.env or 'defaults'}")
    results: dict[str, Rows] = {}
    with tempfile.TemporaryDirectory() as tmp:
        groups = [args.modes] if args.alternate else [[mode] for mode in args.modes]
        for modes in groups:
            async with contextlib.AsyncExitStack() as stack:
                targets = [
                    await stack.enter_async_context(serving(m, args, Path(tmp))) for m in modes
                ]
                results |= await measure(targets, args)
            for mode in modes:
                report(mode, results[mode], results.get("llama-server", {}), args.turns)
    print(f"load average after: {os.getloadavg()}")


MODES = ["llama-server", "embedded", "relay", "in-process", "in-process-relay"]

if __name__ == "__main__":
    asyncio.run(main())
