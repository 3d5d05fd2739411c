"""No secret reaches a log line or a process list: socket tokens, file keys, database passwords."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from meatlizard.backups import dumps
from meatlizard.core import logging as app_logging
from tests.helpers import create_session, serving, user_token

DB_PASSWORD = "pw-never-on-argv"


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Log as `meatlizard serve` does (every logger through our handler) into a buffer."""
    root = logging.getLogger()
    uvicorn_loggers = [logging.getLogger(name) for name in app_logging.UVICORN_LOGGERS]
    saved = (root.handlers[:], root.level)
    # An earlier test may have run uvicorn with its own dictConfig (handlers, no propagation).
    saved_uvicorn = [(g.handlers[:], g.level, g.propagate, g.disabled) for g in uvicorn_loggers]
    app_logging.configure("INFO")
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)  # HTTP lines too
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)  # its WebSocket lines
    buffer = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    yield buffer
    root.handlers[:], level = saved
    root.setLevel(level)
    for lg, (handlers, level, propagate, off) in zip(uvicorn_loggers, saved_uvicorn, strict=True):
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate, lg.disabled = propagate, off


@pytest_asyncio.fixture
async def serve_like_cli(app: FastAPI, captured_logs: io.StringIO) -> AsyncIterator[str]:
    """Serve the app with the CLI's uvicorn logging (log_config=None); yield its base URL."""
    async with serving(app, log_config=None) as base_url:
        yield base_url


async def test_socket_tokens_and_file_keys_are_redacted(
    serve_like_cli: str, captured_logs: io.StringIO
) -> None:
    base = serve_like_cli
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        token = await user_token(client)
        session = await create_session(client, token)
        await client.get("/f/nothing/raw?key=file-key-secret&download=1")
    ws_base = base.replace("http://", "ws://") + f"/api/v1/chat/sessions/{session['id']}"
    async with websockets.connect(f"{ws_base}/ws?token={token}") as accepted:
        await accepted.send('{"type": "stop"}')
    with pytest.raises(websockets.InvalidStatus):  # refused before the handshake ends
        await websockets.connect(f"{ws_base}/nowhere?token={token}")
    bogus = "mls_not-a-real-session-token"
    async with websockets.connect(f"{ws_base}/ws?token={bogus}") as refused:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(refused.recv(), 10)
    text = captured_logs.getvalue()
    assert "WebSocket" in text and "[redacted]" in text, text
    for secret in (token, bogus, "file-key-secret"):
        assert secret not in text


@pytest.mark.parametrize("dump", ["dump_postgres"])
async def test_database_password_is_not_on_the_command_line(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dump: str
) -> None:
    spawned: list[tuple[tuple[Any, ...], dict[str, str]]] = []
    real = asyncio.create_subprocess_exec

    async def watched(*args: Any, **kwargs: Any) -> Any:
        spawned.append((args, kwargs.get("env") or {}))
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", watched)
    url = make_url(postgres_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    await getattr(dumps, dump)(url, tmp_path / "dump.sql.gz")
    [(argv, env)] = spawned
    assert argv[0] == "pg_dump"
    assert not any(DB_PASSWORD in str(arg) for arg in argv), argv
    assert env["PGPASSWORD"] == DB_PASSWORD
