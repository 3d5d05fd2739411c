"""Object storage interface, errors and key rules shared by every backend."""

from __future__ import annotations

import abc
import builtins
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_KEY_BYTES = 1024  # the S3 limit, applied to every backend so keys stay portable
MAX_SEGMENT_BYTES = 250  # a file name is at most 255 bytes; the sidecar prefix needs 5
RESERVED_PREFIX = ".~"  # local temp and sidecar files; reserved on S3 too, to stay portable
CHUNK_SIZE = 64 * 1024
PART_SIZE = 8 * 1024 * 1024
# How often an append reports the offset it has stored (at most this many bytes apart).
PROGRESS_BYTES = PART_SIZE
Progress = Callable[[int], Awaitable[None]]  # told each offset stored so far
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
    async def begin_upload(self, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        """Start a resumable upload that will become `key`; return the token naming it.

        Resumable uploads arrive in several appends, possibly through different processes.
        The caller persists the token and the offset (bytes stored so far): they are the truth,
        and each append starts from the offset the caller passes.
        """

    @abc.abstractmethod
    async def append_upload(
        self,
        key: str,
        token: str,
        offset: int,
        chunks: AsyncIterator[bytes],
        *,
        progress: Progress | None = None,
    ) -> int:
        """Store the chunks after the first `offset` bytes of the upload; return the new offset.

        Bytes past `offset` left by an earlier, unrecorded append are overwritten. When the
        chunks end early (a dropped client), what arrived is kept and counted. `progress` is
        awaited with the offset stored so far every few MiB, and once more when the append is
        cancelled (a server shutting down): a resume may start there.
        """

    @abc.abstractmethod
    async def finish_upload(
        self, key: str, token: str, size: int, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> None:
        """Turn an upload of `size` bytes into the object `key`."""

    @abc.abstractmethod
    async def abort_upload(self, key: str, token: str) -> None:
        """Discard an unfinished upload and everything it stored; a missing one is no error."""

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
    async def presigned_url(
        self, key: str, expires_seconds: int, *, response_headers: dict[str, str] | None = None
    ) -> str | None:
        """Return a time-limited GET URL, or None when the caller must serve the object.

        `response_headers` (Content-Type, Content-Disposition) are what the URL's answer carries.
        """

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StorageError if the backend cannot be used."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; the object may be prepared again afterwards."""
