"""Object storage: one async interface over a local folder or an S3-compatible bucket."""

from __future__ import annotations

import abc
import asyncio
import builtins
import mimetypes
import os
import stat as statmod
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import uuid4

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from meatlizard.core.config import Settings

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_KEY_BYTES = 1024  # the S3 limit, applied to every backend so keys stay portable
MAX_SEGMENT_BYTES = 250  # a file name is at most 255 bytes; the sidecar prefix needs 5
RESERVED_PREFIX = ".~"  # local temp and sidecar files; reserved on S3 too, to stay portable
CHUNK_SIZE = 64 * 1024
PART_SIZE = 8 * 1024 * 1024
NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}


class StorageError(Exception):
    """The storage backend failed or refused an operation."""


class ObjectNotFound(StorageError):
    """No object exists under the key."""


class InvalidKey(StorageError, ValueError):
    """The key (or prefix) is not acceptable; the message says why."""


class InvalidRange(StorageError, ValueError):
    """The requested byte range starts at or past the end of the object (HTTP 416)."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a backend knows about one object; `content_type` is None in list() results."""

    key: str
    size: int
    content_type: str | None
    modified: datetime


def validate_key(key: str, *, prefix: bool = False) -> str:
    """Return `key` unchanged, or raise InvalidKey naming the rule it breaks."""
    if not isinstance(key, str):
        raise InvalidKey(f"key must be a string, not {type(key).__name__}")
    what = "prefix" if prefix else "key"
    if not key and not prefix:
        raise InvalidKey("key must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidKey(f"{what} {key!r} is not valid UTF-8") from None
    if size > MAX_KEY_BYTES:
        raise InvalidKey(f"{what} is {size} bytes long; the limit is {MAX_KEY_BYTES}")
    for char in key:
        if char == "\\":
            raise InvalidKey(f"{what} {key!r} contains a backslash; use '/' to separate folders")
        if ord(char) < 0x20 or ord(char) == 0x7F:
            raise InvalidKey(f"{what} {key!r} contains control character U+{ord(char):04X}")
    if key.startswith("/"):
        raise InvalidKey(f"{what} {key!r} is absolute; it must not start with '/'")
    segments = key.split("/")
    # A prefix may end part-way through a segment (or with '/'), so its last one is partial.
    complete = segments[:-1] if prefix else segments
    for segment in complete:
        if segment in ("", ".", ".."):
            shown = "an empty" if not segment else f"a {segment!r}"
            raise InvalidKey(f"{what} {key!r} has {shown} path segment")
    for segment in segments:
        if segment.startswith(RESERVED_PREFIX):
            raise InvalidKey(
                f"{what} {key!r}: segments starting with {RESERVED_PREFIX!r} are reserved"
            )
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(f"{what} {key!r} has a segment longer than {MAX_SEGMENT_BYTES} bytes")
    return key


def _check_range(start: int | None, end: int | None) -> tuple[int, int | None]:
    first = 0 if start is None else start
    if first < 0 or (end is not None and end < first):
        raise InvalidRange(f"bad byte range start={start} end={end}")
    return first, end


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


class ObjectStorage(abc.ABC):
    """Async object storage; keys are '/'-separated paths checked by validate_key()."""

    @abc.abstractmethod
    async def prepare(self) -> None:
        """Make the backend ready to use (create folder or bucket); safe to call again."""

    @abc.abstractmethod
    async def put_stream(
        self, key: str, chunks: AsyncIterator[bytes], *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> int:
        """Store the chunks under `key` atomically and return the size; nothing remains on error."""

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> int:
        """Store `data` under `key` and return its size."""
        return await self.put_stream(key, _one_chunk(data), content_type=content_type)

    @abc.abstractmethod
    async def open_stream(
        self, key: str, *, start: int | None = None, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Open the object (or bytes start..end inclusive, as in HTTP Range) for async iteration."""

    async def get_bytes(self, key: str) -> bytes:
        """Return the whole object."""
        stream = await self.open_stream(key)
        return b"".join([chunk async for chunk in stream])

    @abc.abstractmethod
    async def stat(self, key: str) -> ObjectInfo:
        """Return the object's size, content type and modification time."""

    async def exists(self, key: str) -> bool:
        """Return whether an object exists under `key`."""
        try:
            await self.stat(key)
        except ObjectNotFound:
            return False
        return True

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""

    @abc.abstractmethod
    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        """Return every object whose key starts with `prefix`, sorted by key."""

    @abc.abstractmethod
    async def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        """Return a time-limited GET URL, or None when the caller must serve the object."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StorageError if the backend cannot be used."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; the object may be prepared again afterwards."""


class LocalStorage(ObjectStorage):
    """Objects as files under `root`, for single-host installs and tests.

    The declared content type is kept in a `.~ct-<name>` sidecar so both backends report the
    same type. It is written only when it differs from what `mimetypes` guesses for the key, so
    most files need none; like SeaweedFS, we treat application/octet-stream as "unknown" and
    report the guess instead.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._real_root = self.root.resolve()

    def _path(self, key: str, *, prefix: bool = False) -> Path:
        path = self._real_root / validate_key(key, prefix=prefix)
        # Validation rules out '..'; resolving also catches symlinks pointing out of the root.
        if not path.resolve().is_relative_to(self._real_root):
            raise InvalidKey(f"{'prefix' if prefix else 'key'} {key!r} leads outside the storage")
        return path

    @staticmethod
    def _sidecar(path: Path) -> Path:
        return path.with_name(f"{RESERVED_PREFIX}ct-{path.name}")

    @staticmethod
    def _guess(key: str) -> str:
        return mimetypes.guess_type(key, strict=False)[0] or DEFAULT_CONTENT_TYPE

    @contextmanager
    def _os_errors(self, key: str) -> Iterator[None]:
        try:
            yield
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise StorageError(f"local storage, key {key!r}: {exc}") from exc

    async def prepare(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def put_stream(
        self, key: str, chunks: AsyncIterator[bytes], *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> int:
        path = self._path(key)
        # Same folder as the target so os.replace is an atomic rename, never a copy.
        tmp = path.with_name(f"{RESERVED_PREFIX}tmp-{uuid4().hex}")
        try:
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            handle: IO[bytes] = await asyncio.to_thread(open, tmp, "xb")
        except OSError as exc:
            raise StorageError(f"local storage, key {key!r}: {exc}") from exc
        size, buffer = 0, bytearray()
        try:
            with handle:
                async for chunk in chunks:
                    buffer += chunk
                    size += len(chunk)
                    if len(buffer) >= CHUNK_SIZE:  # batch small chunks: one thread hop per 64 KiB
                        await asyncio.to_thread(handle.write, bytes(buffer))
                        buffer.clear()
                await asyncio.to_thread(_flush, handle, bytes(buffer))
            try:
                await asyncio.to_thread(os.replace, tmp, path)
            except OSError as exc:  # e.g. the key is already a folder of other keys
                raise StorageError(f"local storage, key {key!r}: {exc}") from exc
        except BaseException:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
            raise
        await asyncio.to_thread(self._write_type, path, key, content_type)
        return size

    def _write_type(self, path: Path, key: str, content_type: str) -> None:
        sidecar = self._sidecar(path)
        if content_type in (DEFAULT_CONTENT_TYPE, self._guess(key)):
            sidecar.unlink(missing_ok=True)
            return
        tmp = path.with_name(f"{RESERVED_PREFIX}tmp-{uuid4().hex}")
        tmp.write_text(content_type, encoding="utf-8")
        os.replace(tmp, sidecar)

    async def open_stream(
        self, key: str, *, start: int | None = None, end: int | None = None
    ) -> AsyncIterator[bytes]:
        first, last = _check_range(start, end)
        path = self._path(key)
        with self._os_errors(key):
            handle: IO[bytes] = await asyncio.to_thread(open, path, "rb")
        size = os.fstat(handle.fileno()).st_size
        if (start is not None or end is not None) and first >= size:
            handle.close()
            raise InvalidRange(f"range starts at {first} but {key!r} has {size} bytes")
        remaining = (size if last is None else min(last + 1, size)) - first
        handle.seek(first)
        return _read_file(handle, remaining)

    async def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        with self._os_errors(key):
            return await asyncio.to_thread(self._stat, path, key)

    def _stat(self, path: Path, key: str) -> ObjectInfo:
        info = path.stat()
        if not statmod.S_ISREG(info.st_mode):
            raise FileNotFoundError(path)
        try:
            content_type = self._sidecar(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            content_type = self._guess(key)
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
        return ObjectInfo(key, info.st_size, content_type, modified)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        with suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            await asyncio.to_thread(path.unlink)
        with suppress(FileNotFoundError, NotADirectoryError):
            await asyncio.to_thread(self._sidecar(path).unlink)

    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        validate_key(prefix, prefix=True)
        # Walk only the folder the prefix names, not the whole tree.
        top = self._path(prefix.rpartition("/")[0], prefix=True)
        return await asyncio.to_thread(self._list, top, prefix)

    def _list(self, top: Path, prefix: str) -> builtins.list[ObjectInfo]:
        found = []
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if not d.startswith(RESERVED_PREFIX)]
            for name in files:
                path = Path(folder) / name
                key = path.relative_to(self._real_root).as_posix()
                if name.startswith(RESERVED_PREFIX) or not key.startswith(prefix):
                    continue
                with suppress(FileNotFoundError):  # deleted while we walked
                    info = path.lstat()
                    if statmod.S_ISREG(info.st_mode):  # not symlinks: they may point outside
                        modified = datetime.fromtimestamp(info.st_mtime, UTC)
                        found.append(ObjectInfo(key, info.st_size, None, modified))
        return sorted(found, key=lambda item: item.key)

    async def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        self._path(key)
        return None

    async def ping(self) -> None:
        ok = await asyncio.to_thread(
            lambda: self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)
        )
        if not ok:
            raise StorageError(f"storage folder {str(self.root)!r} is missing or not writable")

    async def close(self) -> None:
        return None


def _flush(handle: IO[bytes], tail: bytes) -> None:
    handle.write(tail)
    handle.flush()
    os.fsync(handle.fileno())  # the rename must not expose a file whose data is not on disk


async def _read_file(handle: IO[bytes], remaining: int) -> AsyncIterator[bytes]:
    try:
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


class S3Storage(ObjectStorage):
    """Objects in an S3-compatible bucket (AWS, SeaweedFS, MinIO) through aiobotocore."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
        region: str = "us-east-1",
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self._credentials = (access_key_id, secret_access_key)
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def client(self) -> Any:
        """Return the aiobotocore S3 client, creating it on first use."""
        if self._client is None:
            await self.start()
        return self._client

    async def start(self) -> None:
        """Open the client (the connection pool lives until close()); no-op if open."""
        async with self._lock:  # concurrent first requests must not open two clients
            if self._client is None:
                await self._open()

    async def _open(self) -> None:
        config = AioConfig(
            # Path-style: SeaweedFS and MinIO do not serve bucket-name subdomains by default.
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            # Newer botocore adds CRC checksums by default, which not every S3 clone accepts.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        stack = AsyncExitStack()
        self._client = await stack.enter_async_context(
            get_session().create_client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=self._credentials[0],
                aws_secret_access_key=self._credentials[1],
                config=config,
            )
        )
        self._stack = stack

    async def prepare(self) -> None:
        await self.ensure_bucket()

    async def ensure_bucket(self) -> None:
        """Create the bucket unless it already exists."""
        client = await self.client()
        try:
            with self._errors(self.bucket):
                await client.head_bucket(Bucket=self.bucket)
            return
        except ObjectNotFound:
            pass
        extra: dict[str, Any] = {}
        if self.region != "us-east-1":  # AWS rejects an explicit us-east-1 constraint
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            await client.create_bucket(Bucket=self.bucket, **extra)
        except ClientError as exc:
            # Another process may have created it between our check and our call.
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageError(f"cannot create bucket {self.bucket!r}: {exc}") from exc

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            code = _code(exc)
            if code in NOT_FOUND_CODES:
                raise ObjectNotFound(key) from exc
            if code == "InvalidRange":
                raise InvalidRange(f"range is outside object {key!r}") from exc
            raise StorageError(f"S3 bucket {self.bucket!r}, key {key!r}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 at {self.endpoint_url or 'AWS'}: {exc}") from exc

    async def put_stream(
        self, key: str, chunks: AsyncIterator[bytes], *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> int:
        validate_key(key)
        client = await self.client()
        target = {"Bucket": self.bucket, "Key": key}
        size, buffer, parts = 0, bytearray(), list[dict[str, Any]]()
        upload_id: str | None = None
        try:
            with self._errors(key):
                async for chunk in chunks:
                    buffer += chunk
                    size += len(chunk)
                    # Strictly greater: the final part is then never empty, and a stream of at
                    # most one part is sent with a single put_object.
                    while len(buffer) > PART_SIZE:
                        if upload_id is None:
                            created = await client.create_multipart_upload(
                                **target, ContentType=content_type
                            )
                            upload_id = created["UploadId"]
                        parts.append(await self._part(upload_id, key, len(parts) + 1, buffer))
                        del buffer[:PART_SIZE]
                if upload_id is None:
                    await client.put_object(**target, Body=bytes(buffer), ContentType=content_type)
                    return size
                parts.append(await self._part(upload_id, key, len(parts) + 1, buffer))
                await client.complete_multipart_upload(
                    **target, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            if upload_id is not None:
                # Otherwise the uploaded parts linger (and are billed) until a lifecycle rule.
                with suppress(Exception):
                    await client.abort_multipart_upload(**target, UploadId=upload_id)
            raise
        return size

    async def _part(
        self, upload_id: str, key: str, number: int, buffer: bytearray
    ) -> dict[str, Any]:
        client = await self.client()
        response = await client.upload_part(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=bytes(buffer[:PART_SIZE]),
        )
        return {"ETag": response["ETag"], "PartNumber": number}

    async def open_stream(
        self, key: str, *, start: int | None = None, end: int | None = None
    ) -> AsyncIterator[bytes]:
        validate_key(key)
        first, last = _check_range(start, end)
        extra = {}
        if start is not None or end is not None:
            extra["Range"] = f"bytes={first}-{'' if last is None else last}"
        client = await self.client()
        with self._errors(key):
            response = await client.get_object(Bucket=self.bucket, Key=key, **extra)
        return self._read_body(response["Body"], key)

    async def _read_body(self, body: Any, key: str) -> AsyncIterator[bytes]:
        try:
            while True:
                with self._errors(key):
                    chunk = await body.read(CHUNK_SIZE)
                if not chunk:
                    break
                yield chunk
        finally:
            body.close()

    async def stat(self, key: str) -> ObjectInfo:
        validate_key(key)
        client = await self.client()
        with self._errors(key):
            head = await client.head_object(Bucket=self.bucket, Key=key)
        content_type = head.get("ContentType") or DEFAULT_CONTENT_TYPE
        return ObjectInfo(key, head["ContentLength"], content_type, head["LastModified"])

    async def delete(self, key: str) -> None:
        validate_key(key)
        client = await self.client()
        with self._errors(key), suppress(ObjectNotFound):
            await client.delete_object(Bucket=self.bucket, Key=key)

    async def list(self, prefix: str) -> builtins.list[ObjectInfo]:
        validate_key(prefix, prefix=True)
        client = await self.client()
        found = []
        with self._errors(prefix):
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            async for page in pages:
                for item in page.get("Contents", []):
                    found.append(ObjectInfo(item["Key"], item["Size"], None, item["LastModified"]))
        return sorted(found, key=lambda item: item.key)

    async def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        validate_key(key)
        if not 1 <= expires_seconds <= 7 * 24 * 3600:  # the SigV4 maximum
            raise ValueError("expires_seconds must be between 1 and 604800 (7 days)")
        client = await self.client()
        url: str = await client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=expires_seconds,
        )
        return url

    async def ping(self) -> None:
        client = await self.client()
        try:
            with self._errors(self.bucket):
                await client.head_bucket(Bucket=self.bucket)
        except ObjectNotFound:
            raise StorageError(f"S3 bucket {self.bucket!r} does not exist") from None

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def storage_from_settings(settings: Settings) -> ObjectStorage:
    """Return S3 storage when S3_BUCKET_NAME is set, else files under DATA_DIR/storage."""
    if settings.s3_bucket_name:
        secret = settings.s3_secret_access_key
        return S3Storage(
            bucket=settings.s3_bucket_name,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            region=settings.s3_region,
        )
    return LocalStorage(settings.data_dir / "storage")
