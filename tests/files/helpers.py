"""Small tus helpers and sample files shared by the files tests."""

from __future__ import annotations

import base64
import io
import struct
import wave
import zlib

import httpx

from meatlizard.runtime import Services
from tests.helpers import bearer

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}


def metadata(**values: str) -> str:
    """Encode Upload-Metadata."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def create(
    client: httpx.AsyncClient, token: str, size: int, name: str = "data.bin"
) -> httpx.Response:
    """Create a tus upload; return the response (Location on success)."""
    headers = {**TUS, **bearer(token), "Upload-Length": str(size)}
    headers["Upload-Metadata"] = metadata(filename=name, filetype="application/x-whatever")
    return await client.post("/api/v1/files/tus", headers=headers)


async def patch(
    client: httpx.AsyncClient, token: str, url: str, offset: int, body: bytes, **extra: str
) -> httpx.Response:
    """Send one PATCH of `body` at `offset`."""
    headers = {**TUS, **OFFSET_TYPE, **bearer(token), "Upload-Offset": str(offset), **extra}
    return await client.patch(url, content=body, headers=headers)


async def upload(client: httpx.AsyncClient, token: str, data: bytes, name: str = "data.bin") -> str:
    """Upload `data` in one tus PATCH; return the file id."""
    created = await create(client, token, len(data), name)
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    if data:
        done = await patch(client, token, url, 0, data)
        assert done.status_code == 204, done.text
    return url.rsplit("/", 1)[-1]


async def stored_keys(services: Services) -> list[str]:
    """Every object in storage, tails and staging files included (must be empty at the end)."""
    storage = services.storage
    if hasattr(storage, "root"):
        return [str(p) for p in storage.root.rglob("*") if p.is_file()]
    client = await storage.client()  # type: ignore[attr-defined]
    listed = await client.list_objects_v2(Bucket=storage.bucket)  # type: ignore[attr-defined]
    return [item["Key"] for item in listed.get("Contents", [])]


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n%%EOF\n"


def png_2x2() -> bytes:
    """Return a valid 2x2 red PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def wav_one_second() -> bytes:
    """Return one second of 8 kHz mono silence as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\x00\x00" * 8000)
    return out.getvalue()
