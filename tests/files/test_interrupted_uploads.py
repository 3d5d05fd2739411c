"""Interrupted one-shot uploads store nothing; concurrent tus PATCHes at one offset: one wins."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from meatlizard.files import service
from meatlizard.runtime import Services
from tests.files.helpers import create, patch, stored_keys
from tests.helpers import bearer, user_token

WAIT_SECONDS = 15  # bound on waiting for the server to give up on a dropped body
RACE_ROUNDS = 25
RACERS = 4
PART = 64 * 1024


@pytest.fixture
def stores_ended(monkeypatch: pytest.MonkeyPatch) -> asyncio.Queue[str]:
    """Tell the test each time a one-shot upload ends on the server, and how."""
    ended: asyncio.Queue[str] = asyncio.Queue()
    real = service.store_stream

    async def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            item = await real(*args, **kwargs)
        except BaseException as exc:
            ended.put_nowait(type(exc).__name__)
            raise
        ended.put_nowait("stored")
        return item

    monkeypatch.setattr(service, "store_stream", watched)
    return ended


async def raw_put(base_url: str, token: str, declared: int, body: bytes) -> None:
    """Send a PUT that declares `declared` bytes, send `body`, then hang up."""
    address = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    head = (
        f"PUT /api/v1/files/cut.txt HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {declared}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    del reader


@pytest.mark.parametrize("sent", [b"", b"0123456789"])
async def test_a_put_cut_short_stores_nothing(
    client: httpx.AsyncClient,
    services: Services,
    stores_ended: asyncio.Queue[str],
    sent: bytes,
) -> None:
    token = await user_token(client)
    await raw_put(str(client.base_url), token, 1000, sent)
    outcome = await asyncio.wait_for(stores_ended.get(), WAIT_SECONDS)
    assert outcome == "IncompleteBody"
    assert (await client.get("/api/v1/files", headers=bearer(token))).json() == []
    assert await stored_keys(services) == []


async def test_whole_bodies_are_still_stored(
    client: httpx.AsyncClient, stores_ended: asyncio.Queue[str]
) -> None:
    token = await user_token(client)

    async def body() -> AsyncIterator[bytes]:
        yield b"hello "
        yield b"world"

    chunked = await client.put("/api/v1/files/w.txt", content=body(), headers=bearer(token))
    assert chunked.status_code == 201, chunked.text
    sized = await client.put("/api/v1/files/s.txt", content=b"0123456789", headers=bearer(token))
    assert sized.status_code == 201, sized.text
    assert [await stores_ended.get() for _ in range(2)] == ["stored", "stored"]
    listed = await client.get("/api/v1/files", headers=bearer(token))
    assert sorted(f["size"] for f in listed.json()) == [10, 11]


async def test_concurrent_patches_at_one_offset_accept_exactly_one(
    client: httpx.AsyncClient,
) -> None:
    token = await user_token(client)
    for _ in range(RACE_ROUNDS):
        created = await create(client, token, RACERS * PART)
        url = created.headers["Location"]
        answers = await asyncio.gather(
            *(patch(client, token, url, 0, bytes([i]) * PART) for i in range(RACERS))
        )
        codes = Counter(a.status_code for a in answers)
        assert codes[204] == 1, codes
        assert set(codes) <= {204, 409, 423}, codes
        head = await client.head(url, headers={"Tus-Resumable": "1.0.0", **bearer(token)})
        assert head.headers["Upload-Offset"] == str(PART)
