"""Resumable uploads in pieces of any size: resumed, finished or aborted, on both backends."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

from meatlizard.core.storage import LocalStorage, ObjectStorage
from meatlizard.core.storage.base import PART_SIZE

DATA = random.Random(7).randbytes(2 * PART_SIZE + 12_345)


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def leftovers(store: ObjectStorage) -> list[str]:
    """Everything the storage holds, tails and staging files included."""
    if isinstance(store, LocalStorage):
        files = [p for p in store.root.rglob("*") if p.is_file()]
        return [str(p) for p in files if not p.name.startswith(".~ct-")]  # type sidecars
    client = await store.client()  # type: ignore[attr-defined]
    listed = await client.list_objects_v2(Bucket=store.bucket)  # type: ignore[attr-defined]
    return [item["Key"] for item in listed.get("Contents", [])]


async def test_append_in_odd_pieces_then_finish(storage: ObjectStorage) -> None:
    token = await storage.begin_upload("up/a.bin", content_type="application/x-test")
    offset = 0
    # Request sizes unrelated to the part size: small, crossing one part, crossing two.
    for size in (1000, PART_SIZE - 1000 + 7, PART_SIZE + 3):
        piece = DATA[offset : offset + size]
        offset = await storage.append_upload("up/a.bin", token, offset, pieces(piece, 65_536))
    offset = await storage.append_upload("up/a.bin", token, offset, pieces(DATA[offset:], 99_999))
    assert offset == len(DATA)
    assert not await storage.exists("up/a.bin")
    await storage.finish_upload("up/a.bin", token, offset, content_type="application/x-test")
    assert await storage.get_bytes("up/a.bin") == DATA
    assert (await storage.stat("up/a.bin")).content_type == "application/x-test"
    assert await leftovers(storage) == [
        str(storage.root / "up/a.bin") if isinstance(storage, LocalStorage) else "up/a.bin"
    ]


async def test_resume_overwrites_unrecorded_bytes(storage: ObjectStorage) -> None:
    token = await storage.begin_upload("up/b.bin")
    first = await storage.append_upload("up/b.bin", token, 0, pieces(DATA[:5000], 1000))
    # An append whose offset was never recorded (the server died before saying so)...
    await storage.append_upload("up/b.bin", token, first, pieces(b"x" * PART_SIZE, 1 << 20))
    # ...is overwritten when the client resumes from the recorded offset.
    end = await storage.append_upload("up/b.bin", token, first, pieces(DATA[first:], 1 << 20))
    await storage.finish_upload("up/b.bin", token, end)
    assert await storage.get_bytes("up/b.bin") == DATA


async def test_small_and_empty_uploads(storage: ObjectStorage) -> None:
    token = await storage.begin_upload("up/small.txt")
    size = await storage.append_upload("up/small.txt", token, 0, pieces(b"hello", 2))
    await storage.finish_upload("up/small.txt", token, size)
    assert await storage.get_bytes("up/small.txt") == b"hello"
    token = await storage.begin_upload("up/empty")
    await storage.finish_upload("up/empty", token, 0)
    assert await storage.get_bytes("up/empty") == b""


async def test_abort_leaves_nothing(storage: ObjectStorage) -> None:
    token = await storage.begin_upload("up/c.bin")
    await storage.append_upload("up/c.bin", token, 0, pieces(DATA[: PART_SIZE + 10], 1 << 20))
    await storage.abort_upload("up/c.bin", token)
    await storage.abort_upload("up/c.bin", token)  # twice is fine
    assert await leftovers(storage) == []
