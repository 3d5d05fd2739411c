"""The anchor for many chats at once: llama.cpp's own `llama-server --parallel N`.

Started on the same GGUF with the same threads as the platform, driven through its streaming
OpenAI-compatible endpoint with the same prompts and token budget (`make bench-chat` builds it).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx


def start(
    binary: Path, model: Path, *, port: int, parallel: int, threads: int, ctx_per_slot: int
) -> subprocess.Popen[bytes]:
    """Start llama-server on loopback (prompt caching on, its default)."""
    return subprocess.Popen(
        [
            str(binary),
            "--model", str(model),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--parallel", str(parallel),
            "--threads", str(threads),
            "--ctx-size", str(ctx_per_slot * parallel),
            "--no-webui",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def wait_ready(base: str, proc: subprocess.Popen[bytes], name: str = "llama-server") -> None:
    """Wait until `proc` answers 200 on /health (2 minutes at most)."""
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(1200):
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with {proc.returncode}")
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{name} did not become ready")


async def deltas(
    http: httpx.AsyncClient, messages: list[dict[str, str]], max_tokens: int
) -> AsyncIterator[str]:
    """Yield the text chunks of one streamed answer (prompt caching on, temperature 0.7)."""
    body = {
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0.7,
        "stream": True,
        "cache_prompt": True,
    }
    async with http.stream("POST", "/v1/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            delta = json.loads(line[6:])["choices"][0].get("delta", {}).get("content")
            if delta:
                yield delta


async def ask(
    base: str, messages: list[dict[str, str]], max_tokens: int, gate: asyncio.Event | None = None
) -> dict[str, float | str]:
    """Stream one answer; return tokens (content chunks), wall and first-token seconds, text."""
    async with httpx.AsyncClient(base_url=base, timeout=600) as http:
        if gate is not None:
            await gate.wait()
        start = time.perf_counter()
        first: float | None = None
        tokens = 0
        text: list[str] = []
        async for delta in deltas(http, messages, max_tokens):
            tokens += 1
            text.append(delta)
            if first is None:
                first = time.perf_counter() - start
        wall = time.perf_counter() - start
    return {"tokens": float(tokens), "wall": wall, "first": first or wall, "text": "".join(text)}
