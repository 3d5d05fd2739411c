"""Streamed (chunked) uploads are refused with 413 as soon as they pass the limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from meatlizard.pastes.models import Paste
from meatlizard.runtime import Services

MAX_BYTES = 4096
CHUNK = b"a" * 1024
HANG_GUARD_SECONDS = 60  # only turns a server that waits for the whole body into a failure


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"paste_max_bytes": MAX_BYTES}


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // len(CHUNK)):
        yield CHUNK


async def test_chunked_upload_within_limit(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/pastes", content=_chunks(MAX_BYTES), headers={"Accept": "application/json"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["size"] == MAX_BYTES
    assert "content-length" not in created.request.headers


async def test_chunked_upload_refused_before_the_body_ends(
    live_server: str, services: Services
) -> None:
    url = urlsplit(live_server)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(
        b"POST /api/v1/pastes HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    sent = 0
    while sent <= MAX_BYTES:  # one chunk past the limit, and the body never ends
        writer.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
        sent += len(CHUNK)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), HANG_GUARD_SECONDS)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    async with services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Paste)) == 0


async def test_declared_length_over_limit_is_refused(client: httpx.AsyncClient) -> None:
    too_big = await client.post("/api/v1/pastes", content=b"a" * (MAX_BYTES + 1))
    assert too_big.status_code == 413
    assert str(MAX_BYTES) in too_big.json()["detail"]
    json_body = await client.post("/api/v1/pastes", json={"content": "a" * (MAX_BYTES + 1)})
    assert json_body.status_code == 413
