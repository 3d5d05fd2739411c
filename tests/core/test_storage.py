"""Object storage: the same behaviour on a local folder and on real S3 (SeaweedFS)."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from meatlizard.core.settings import Settings
from meatlizard.core.storage import (
    InvalidKey,
    InvalidRange,
    LocalStorage,
    ObjectNotFound,
    ObjectStorage,
    StorageError,
    storage_from_settings,
)
from meatlizard.core.storage.base import PART_SIZE
from meatlizard.core.storage.s3 import S3Storage
from tests.fixtures.seaweedfs import S3Endpoint, s3_storage

LARGE_CHUNK = 1_000_003  # odd on purpose: S3 parts then split chunks mid-way
LARGE_CHUNKS = 21  # ~20 MiB: three multipart parts of 8 MiB


async def generated(count: int, size: int, fail_after: int | None = None) -> AsyncIterator[bytes]:
    """Yield `count` deterministic chunks, or raise after `fail_after` of them."""
    for index in range(count):
        if index == fail_after:
            raise RuntimeError("upload interrupted")
        yield random.Random(index).randbytes(size)


def leftover_files(store: ObjectStorage) -> list[Path]:
    assert isinstance(store, LocalStorage)
    return [path for path in store.root.rglob("*") if not path.is_dir()]


async def test_put_get_round_trip(storage: ObjectStorage) -> None:
    assert await storage.put_bytes("notes/hello.txt", b"hello", content_type="text/plain") == 5
    assert await storage.get_bytes("notes/hello.txt") == b"hello"
    assert await storage.put_bytes("notes/hello.txt", b"replaced") == 8
    assert await storage.get_bytes("notes/hello.txt") == b"replaced"
    assert await storage.put_bytes("empty", b"") == 0
    assert await storage.get_bytes("empty") == b""
    unicode_key = "dossier/été 2024/ünïcödé + spaces.bin"
    await storage.put_bytes(unicode_key, b"\x00\xff")
    assert await storage.get_bytes(unicode_key) == b"\x00\xff"


@pytest.mark.parametrize(
    ("key", "declared", "expected"),
    [
        ("a.txt", "text/plain; charset=utf-8", "text/plain; charset=utf-8"),
        ("b.png", "image/png", "image/png"),
        ("no-extension", "application/octet-stream", "application/octet-stream"),
        ("no-extension-either", "video/mp4", "video/mp4"),
    ],
)
async def test_content_type_is_kept(
    storage: ObjectStorage, key: str, declared: str, expected: str
) -> None:
    await storage.put_bytes(key, b"data", content_type=declared)
    assert (await storage.stat(key)).content_type == expected


async def test_large_stream_round_trip(storage: ObjectStorage) -> None:
    expected = hashlib.sha256()
    async for chunk in generated(LARGE_CHUNKS, LARGE_CHUNK):
        expected.update(chunk)
    total = LARGE_CHUNKS * LARGE_CHUNK
    assert total > 2 * PART_SIZE

    written = await storage.put_stream(
        "big/video.mp4", generated(LARGE_CHUNKS, LARGE_CHUNK), content_type="video/mp4"
    )
    assert written == total

    actual, size = hashlib.sha256(), 0
    async for chunk in await storage.open_stream("big/video.mp4"):
        actual.update(chunk)
        size += len(chunk)
    assert size == total
    assert actual.hexdigest() == expected.hexdigest()
    info = await storage.stat("big/video.mp4")
    assert (info.size, info.content_type) == (total, "video/mp4")
    if isinstance(storage, S3Storage):
        client = await storage.client()
        head = await client.head_object(Bucket=storage.bucket, Key="big/video.mp4")
        assert head["ETag"].strip('"').endswith("-3"), "expected a three-part multipart upload"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, b"0123456789"),
        (0, 0, b"0"),
        (2, 5, b"2345"),
        (7, None, b"789"),
        (None, 3, b"0123"),
        (8, 100, b"89"),
        (9, 9, b"9"),
    ],
)
async def test_byte_ranges(
    storage: ObjectStorage, start: int | None, end: int | None, expected: bytes
) -> None:
    await storage.put_bytes("digits", b"0123456789")
    stream = await storage.open_stream("digits", start=start, end=end)
    assert b"".join([chunk async for chunk in stream]) == expected


@pytest.mark.parametrize(("start", "end"), [(10, None), (50, 60), (5, 2), (-1, 3)])
async def test_bad_ranges_are_rejected(storage: ObjectStorage, start: int, end: int | None) -> None:
    await storage.put_bytes("digits", b"0123456789")
    with pytest.raises(InvalidRange):
        await storage.open_stream("digits", start=start, end=end)


async def test_stat_exists_list_delete(storage: ObjectStorage) -> None:
    await storage.put_bytes("photos/2024/a.jpg", b"aaa", content_type="image/jpeg")
    await storage.put_bytes("photos/2024/b.jpg", b"bb")
    await storage.put_bytes("photos/2025/c.jpg", b"c")
    await storage.put_bytes("photosets/d.jpg", b"dddd")

    info = await storage.stat("photos/2024/a.jpg")
    assert (info.key, info.size, info.content_type) == ("photos/2024/a.jpg", 3, "image/jpeg")
    assert info.modified.tzinfo is not None
    assert await storage.exists("photos/2024/a.jpg")
    assert not await storage.exists("photos/2024")  # a "folder" is not an object

    listed = await storage.list("photos/")
    assert [(i.key, i.size) for i in listed] == [
        ("photos/2024/a.jpg", 3),
        ("photos/2024/b.jpg", 2),
        ("photos/2025/c.jpg", 1),
    ]
    assert [i.key for i in await storage.list("photos")] == [i.key for i in listed] + [
        "photosets/d.jpg"
    ]
    assert [i.key for i in await storage.list("photos/2024/b")] == ["photos/2024/b.jpg"]
    assert len(await storage.list("")) == 4
    assert await storage.list("nothing/") == []

    await storage.delete("photos/2024/a.jpg")
    await storage.delete("photos/2024/a.jpg")  # idempotent
    assert not await storage.exists("photos/2024/a.jpg")
    assert [i.key for i in await storage.list("photos/2024/")] == ["photos/2024/b.jpg"]


async def test_missing_key(storage: ObjectStorage) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.get_bytes("missing/file.txt")
    with pytest.raises(ObjectNotFound):
        await storage.open_stream("missing/file.txt", start=0, end=10)
    with pytest.raises(ObjectNotFound):
        await storage.stat("missing/file.txt")
    assert not await storage.exists("missing/file.txt")
    await storage.delete("missing/file.txt")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "must not be empty"),
        ("/etc/passwd", "absolute"),
        ("../outside", "'..' path segment"),
        ("a/../../b", "'..' path segment"),
        ("a/./b", "'.' path segment"),
        ("a//b", "empty path segment"),
        ("folder/", "empty path segment"),
        ("a\\b", "backslash"),
        ("a\x00b", "U+0000"),
        ("line\nbreak", "U+000A"),
        ("x" * 1025, "1025 bytes long"),
        ("é" * 513, "1026 bytes long"),
        ("a/" + "y" * 251, "longer than 250 bytes"),
        ("a/.~tmp-123", "reserved"),
        ("\ud800", "not valid UTF-8"),
    ],
)
async def test_invalid_keys_are_rejected(storage: ObjectStorage, key: str, message: str) -> None:
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: storage.put_bytes(key, b"x"),
        lambda: storage.get_bytes(key),
        lambda: storage.stat(key),
        lambda: storage.delete(key),
        lambda: storage.presigned_url(key, 60),
    ]
    for call in calls:
        with pytest.raises(InvalidKey, match=re.escape(message)) as caught:
            await call()
        assert isinstance(caught.value, ValueError)
    with pytest.raises(InvalidKey):
        await storage.list("../")


async def test_failed_stream_leaves_nothing(storage: ObjectStorage) -> None:
    # Four 4 MiB chunks before the failure: on S3 a multipart upload has begun by then.
    with pytest.raises(RuntimeError, match="upload interrupted"):
        await storage.put_stream("uploads/deep/broken.bin", generated(10, 4 << 20, fail_after=4))
    assert not await storage.exists("uploads/deep/broken.bin")
    assert await storage.list("") == []
    if isinstance(storage, LocalStorage):
        assert leftover_files(storage) == []
    if isinstance(storage, S3Storage):
        client = await storage.client()
        uploads = await client.list_multipart_uploads(Bucket=storage.bucket)
        assert uploads.get("Uploads", []) == []


async def test_failed_overwrite_keeps_the_old_object(storage: ObjectStorage) -> None:
    await storage.put_bytes("keep.txt", b"old", content_type="text/plain")
    with pytest.raises(RuntimeError):
        await storage.put_stream("keep.txt", generated(5, 1024, fail_after=2))
    assert await storage.get_bytes("keep.txt") == b"old"
    if isinstance(storage, LocalStorage):
        assert sorted(p.name for p in leftover_files(storage)) == ["keep.txt"]


async def test_presigned_url(storage: ObjectStorage) -> None:
    await storage.put_bytes("share/report.pdf", b"%PDF-1.7 fake", content_type="application/pdf")
    url = await storage.presigned_url("share/report.pdf", 60)
    if isinstance(storage, LocalStorage):
        assert url is None
        return
    assert url is not None
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(url)
        assert response.status_code == 200, response.text
        assert response.content == b"%PDF-1.7 fake"
        assert response.headers["content-type"] == "application/pdf"
        # Without the signature the server refuses: the test server really checks credentials.
        unsigned = await http.get(url.split("?", 1)[0])
        assert unsigned.status_code == 403


async def test_ping(storage: ObjectStorage) -> None:
    await storage.ping()


async def test_ping_fails_for_missing_bucket(seaweedfs_s3: S3Endpoint) -> None:
    store = s3_storage(seaweedfs_s3, f"absent-{uuid4().hex[:12]}")
    try:
        with pytest.raises(StorageError, match="does not exist"):
            await store.ping()
    finally:
        await store.close()


async def test_local_storage_never_leaves_its_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    store = LocalStorage(tmp_path / "root")
    (store.root / "link").symlink_to(outside)
    with pytest.raises(InvalidKey, match="outside the storage"):
        await store.get_bytes("link/secret.txt")
    with pytest.raises(InvalidKey, match="outside the storage"):
        await store.put_bytes("link/planted.txt", b"x")
    with pytest.raises(InvalidKey, match="outside the storage"):
        await store.list("link/")
    (store.root / "file-link").symlink_to(outside / "secret.txt")
    assert await store.list("") == []
    with pytest.raises(InvalidKey, match="outside the storage"):
        await store.stat("file-link")
    assert not (outside / "planted.txt").exists()


def test_storage_from_settings(tmp_path: Path) -> None:
    local = storage_from_settings(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalStorage)
    assert local.root == tmp_path / "storage"
    s3 = storage_from_settings(
        Settings(
            data_dir=tmp_path,
            s3_bucket_name="media",
            s3_endpoint_url="http://127.0.0.1:9000",
            s3_access_key_id="key",
            s3_secret_access_key="secret",  # type: ignore[arg-type]
            s3_region="eu-west-1",
        )
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.endpoint_url, s3.region) == (
        "media",
        "http://127.0.0.1:9000",
        "eu-west-1",
    )
