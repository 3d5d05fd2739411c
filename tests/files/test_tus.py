"""tus 1.0 conformance on both backends: creation, offsets, checksums, termination, expiry."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from datetime import timedelta
from urllib.parse import urlsplit

import httpx

from meatlizard.core.db import utcnow
from meatlizard.core.storage.base import PART_SIZE
from meatlizard.files.jobs import FileSweeper
from meatlizard.files.models import StoredFile
from meatlizard.runtime import Services
from tests.files.helpers import OFFSET_TYPE, TUS, create, patch, stored_keys, upload
from tests.helpers import bearer, user_token

DATA = random.Random(3).randbytes(PART_SIZE + 54_321)


async def test_options_advertise(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/v1/files/tus")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) >= {
        "creation",
        "termination",
        "checksum",
        "expiration",
    }
    assert "sha1" in response.headers["Tus-Checksum-Algorithm"].split(",")
    assert int(response.headers["Tus-Max-Size"]) > 0


async def test_create_patch_in_pieces_and_download(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    created = await create(client, token, len(DATA), "report.bin")
    assert created.status_code == 201, created.text
    assert created.headers["Tus-Resumable"] == "1.0.0"
    assert "Upload-Expires" in created.headers
    url = created.headers["Location"]
    assert urlsplit(url).path.startswith("/api/v1/files/tus/")
    offset = 0
    for size in (10_000, PART_SIZE, len(DATA)):
        piece = DATA[offset : offset + size]
        answer = await patch(client, token, url, offset, piece)
        assert answer.status_code == 204, answer.text
        offset += len(piece)
        assert answer.headers["Upload-Offset"] == str(offset)
    head = await client.head(url, headers={**TUS, **bearer(token)})
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(DATA))
    assert head.headers["Cache-Control"] == "no-store"
    file_id = url.rsplit("/", 1)[-1]
    listed = (await client.get("/api/v1/files", headers=bearer(token))).json()
    assert [(f["id"], f["name"], f["size"]) for f in listed] == [(file_id, "report.bin", len(DATA))]
    raw = await client.get(f"/f/{file_id}/raw")
    assert raw.status_code == 200
    assert hashlib.sha1(raw.content).digest() == hashlib.sha1(DATA).digest()


async def test_protocol_errors(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    url = (await create(client, token, 100)).headers["Location"]
    wrong_version = await client.head(url, headers={"Tus-Resumable": "0.2.2", **bearer(token)})
    assert wrong_version.status_code == 412
    assert wrong_version.headers["Tus-Version"] == "1.0.0"
    mismatch = await patch(client, token, url, 5, b"abc")
    assert mismatch.status_code == 409
    assert "does not match" in mismatch.json()["detail"]
    wrong_type = await client.patch(
        url, content=b"x", headers={**TUS, **bearer(token), "Upload-Offset": "0"}
    )
    assert wrong_type.status_code == 415
    too_long = await patch(client, token, url, 0, b"x" * 101)
    assert too_long.status_code == 413
    assert (await client.head(url, headers={**TUS, **bearer(token)})).headers[
        "Upload-Offset"
    ] == "0"
    no_length = await client.post("/api/v1/files/tus", headers={**TUS, **bearer(token)})
    assert no_length.status_code == 400
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        anonymous = await stranger.post("/api/v1/files/tus", headers={**TUS, "Upload-Length": "1"})
    assert anonymous.status_code == 401
    other = await user_token(client)
    assert (await client.head(url, headers={**TUS, **bearer(other)})).status_code == 404


async def test_checksum(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    url = (await create(client, token, 10)).headers["Location"]
    good = base64.b64encode(hashlib.sha1(b"hello").digest()).decode()
    bad = base64.b64encode(hashlib.sha1(b"jello").digest()).decode()
    refused = await patch(client, token, url, 0, b"hello", **{"Upload-Checksum": f"sha1 {bad}"})
    assert refused.status_code == 460
    assert (await client.head(url, headers={**TUS, **bearer(token)})).headers[
        "Upload-Offset"
    ] == "0"
    unknown = await patch(client, token, url, 0, b"hello", **{"Upload-Checksum": "crc99 AAAA"})
    assert unknown.status_code == 400
    taken = await patch(client, token, url, 0, b"hello", **{"Upload-Checksum": f"sha1 {good}"})
    assert taken.status_code == 204
    assert taken.headers["Upload-Offset"] == "5"


async def test_termination_leaves_nothing(client: httpx.AsyncClient, services: Services) -> None:
    token = await user_token(client)
    url = (await create(client, token, len(DATA))).headers["Location"]
    assert (await patch(client, token, url, 0, DATA[: PART_SIZE + 5])).status_code == 204
    gone = await client.delete(url, headers={**TUS, **bearer(token)})
    assert gone.status_code == 204
    assert (await client.head(url, headers={**TUS, **bearer(token)})).status_code == 404
    assert await stored_keys(services) == []
    file_id = await upload(client, token, b"finished")
    assert (
        await client.delete(f"/api/v1/files/{file_id}", headers=bearer(token))
    ).status_code == 204
    assert await stored_keys(services) == []


async def test_expired_upload_is_gone_and_swept(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = await user_token(client)
    url = (await create(client, token, len(DATA))).headers["Location"]
    assert (await patch(client, token, url, 0, DATA[: PART_SIZE + 7])).status_code == 204
    file_id = url.rsplit("/", 1)[-1]
    async with services.sessions() as db:
        item = await db.get(StoredFile, file_id)
        assert item is not None
        item.upload_expires_at = utcnow() - timedelta(seconds=1)
        await db.commit()
    assert (await client.head(url, headers={**TUS, **bearer(token)})).status_code == 410
    assert (await patch(client, token, url, PART_SIZE + 7, b"more")).status_code == 410
    assert await FileSweeper(services.sessions, services.storage).sweep_once() == 1
    assert await stored_keys(services) == []


async def server_offset(client: httpx.AsyncClient, token: str, url: str) -> int:
    probe = await client.head(url, headers={**TUS, **bearer(token)})
    return int(probe.headers["Upload-Offset"])


async def test_resume_after_dropped_connection(client: httpx.AsyncClient, live_server: str) -> None:
    token = await user_token(client)
    url = (await create(client, token, len(DATA))).headers["Location"]
    sent = PART_SIZE + 1000  # a full S3 part plus a tail
    path = urlsplit(url).path
    host, port = urlsplit(live_server).hostname, urlsplit(live_server).port
    _reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {host}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(DATA)}\r\n\r\n"
    )
    writer.write(head.encode() + DATA[:sent])
    await writer.drain()
    writer.close()  # the connection drops part-way through the body
    await writer.wait_closed()
    offset = 0
    while offset == 0:  # the server keeps what arrived; wait until it has recorded it
        await asyncio.sleep(0.05)
        offset = await server_offset(client, token, url)
    assert 0 < offset <= sent  # what was still in flight when the socket closed may be lost
    for _ in range(200):  # as a tus client does: while the dropped request lets go, the
        rest = await patch(client, token, url, offset, DATA[offset:])  # server answers 423,
        if rest.status_code not in (409, 423):  # or 409 once it recorded a later offset
            break
        await asyncio.sleep(0.05)
        offset = await server_offset(client, token, url)  # so ask again where to go on from
        assert 0 < offset <= sent
    assert rest.status_code == 204, rest.text
    raw = await client.get(f"/f/{url.rsplit('/', 1)[-1]}/raw")
    assert raw.content == DATA


async def test_creation_with_upload(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    headers = {**TUS, **OFFSET_TYPE, **bearer(token), "Upload-Length": "5"}
    created = await client.post("/api/v1/files/tus", headers=headers, content=b"hello")
    assert created.status_code == 201
    assert created.headers["Upload-Offset"] == "5"
    file_id = created.headers["Location"].rsplit("/", 1)[-1]
    assert (await client.get(f"/f/{file_id}/raw")).content == b"hello"


async def test_non_ascii_digits_in_numeric_headers_are_refused(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    superscript = "\u00b2".encode("latin-1")  # "²": str.isdigit() says yes, int() says no
    length = {**TUS, **bearer(token), "Upload-Length": b"1" + superscript}
    refused = await client.post("/api/v1/files/tus", headers=length)
    assert refused.status_code == 400, refused.text
    assert "Upload-Length" in refused.json()["detail"]
    url = (await create(client, token, 10)).headers["Location"]
    offset = {**TUS, **OFFSET_TYPE, **bearer(token), "Upload-Offset": superscript}
    refused = await client.patch(url, content=b"x", headers=offset)
    assert refused.status_code == 400, refused.text
    assert "Upload-Offset" in refused.json()["detail"]
    assert (await patch(client, token, url, 0, b"0123456789")).status_code == 204
