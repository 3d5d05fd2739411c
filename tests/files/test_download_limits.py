"""Download limits count bytes served: ranges cannot stretch N copies, resumes still fit."""

from __future__ import annotations

import asyncio

import httpx

from tests.files.helpers import upload
from tests.helpers import bearer, user_token

DATA = bytes(range(256)) * 40  # 10 240 bytes
PIECE = 1000


async def limited_file(client: httpx.AsyncClient, limit: int) -> str:
    """Upload DATA as a fresh user and limit it to `limit` downloads; return its raw URL."""
    token = await user_token(client)
    file_id = await upload(client, token, DATA)
    changed = await client.patch(
        f"/api/v1/files/{file_id}", json={"max_downloads": limit}, headers=bearer(token)
    )
    assert changed.status_code == 200, changed.text
    return f"/f/{file_id}/raw"


async def test_ranges_cannot_dodge_the_limit(client: httpx.AsyncClient) -> None:
    url = await limited_file(client, 1)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        suffix = await stranger.get(url, headers={"Range": "bytes=-999999"})
        assert suffix.content == DATA
        for header in ("bytes=00-", "bytes=-999999", "bytes=1-", "bytes=5000-5100", ""):
            again = await stranger.get(url, headers={"Range": header} if header else {})
            assert again.status_code == 410, (header, again.status_code)
        assert (await stranger.head(url)).status_code == 200  # HEAD sends no bytes


async def test_split_ranges_give_at_most_n_copies(client: httpx.AsyncClient) -> None:
    url = await limited_file(client, 2)
    received = 0
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        for _ in range(3 * len(DATA) // PIECE + 3):
            start = received % len(DATA)
            end = min(start + PIECE, len(DATA)) - 1
            # A leading zero is still the same range (the old check only knew "bytes=0-").
            part = await stranger.get(url, headers={"Range": f"bytes=0{start}-{end}"})
            if part.status_code == 410:
                break
            assert part.content == DATA[start : end + 1]
            received += len(part.content)
    assert received == 2 * len(DATA)


async def test_a_resumed_copy_fits_and_the_owner_is_free(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    file_id = await upload(client, token, DATA)
    await client.patch(f"/api/v1/files/{file_id}", json={"max_downloads": 1}, headers=bearer(token))
    url = f"/f/{file_id}/raw"
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        first = await stranger.get(url, headers={"Range": "bytes=0-4095"})
        rest = await stranger.get(url, headers={"Range": "bytes=4096-"})
        assert first.content + rest.content == DATA
        assert (await stranger.get(url, headers={"Range": "bytes=0-0"})).status_code == 410
    for _ in range(3):
        assert (await client.get(url, headers=bearer(token))).content == DATA
    shown = await client.get(f"/api/v1/files/{file_id}", headers=bearer(token))
    assert shown.json()["download_count"] == 1


async def test_concurrent_downloads_share_one_allowance(client: httpx.AsyncClient) -> None:
    url = await limited_file(client, 1)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        answers = await asyncio.gather(
            *(stranger.get(url, headers={"Range": f"bytes={i}-"}) for i in range(12))
        )
    served = sum(len(a.content) for a in answers if a.status_code in (200, 206))
    assert served <= len(DATA)
    assert {a.status_code for a in answers} <= {200, 206, 410}
