"""Object storage in a local folder (the embedded default)."""

from __future__ import annotations

import asyncio
import builtins
import mimetypes
import os
import stat as statmod
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from uuid import uuid4

from meatlizard.core.storage.base import (
    DEFAULT_CONTENT_TYPE,
    RESERVED_PREFIX,
    InvalidKey,
    InvalidRange,
    ObjectInfo,
    ObjectNotFound,
    ObjectStorage,
    Progress,
    StorageError,
    _check_range,
    validate_key,
)
from meatlizard.core.storage.file_io import read_file, sync_file, write_all

UPLOADS_FOLDER = f"{RESERVED_PREFIX}uploads"  # resumable uploads in progress


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
        try:
            with handle:
                size = await write_all(handle, chunks)
                await asyncio.to_thread(sync_file, handle)
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
        return read_file(handle, remaining)

    def _staging(self, token: str) -> Path:
        if not token.isalnum():
            raise StorageError(f"bad upload token {token!r}")
        return self._real_root / UPLOADS_FOLDER / token

    async def begin_upload(self, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        self._path(key)
        token = uuid4().hex
        staging = self._staging(token)
        try:
            await asyncio.to_thread(staging.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(staging.touch, exist_ok=False)
        except OSError as exc:
            raise StorageError(f"local storage, upload of {key!r}: {exc}") from exc
        return token

    async def append_upload(
        self,
        key: str,
        token: str,
        offset: int,
        chunks: AsyncIterator[bytes],
        *,
        progress: Progress | None = None,
    ) -> int:
        staging = self._staging(token)
        with self._os_errors(key):
            handle: IO[bytes] = await asyncio.to_thread(open, staging, "r+b")
        with handle:
            if os.fstat(handle.fileno()).st_size < offset:
                raise StorageError(f"upload of {key!r} holds fewer than {offset} bytes")
            handle.truncate(offset)  # drop bytes an unrecorded append left behind
            handle.seek(offset)
            start = offset

            async def stored(written: int) -> None:
                await asyncio.to_thread(sync_file, handle)
                if progress is not None:
                    await progress(start + written)

            try:
                offset += await write_all(handle, chunks, stored if progress else None)
            except asyncio.CancelledError:
                # What arrived was written (see write_all): make it durable and say so.
                if progress is not None:
                    await stored(handle.tell() - start)
                raise
            finally:
                # Keep what arrived: the caller records the offset only if we return.
                await asyncio.to_thread(sync_file, handle)
        return offset

    async def finish_upload(
        self, key: str, token: str, size: int, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> None:
        path, staging = self._path(key), self._staging(token)
        with self._os_errors(key):
            await asyncio.to_thread(os.truncate, staging, size)
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(os.replace, staging, path)
        await asyncio.to_thread(self._write_type, path, key, content_type)

    async def abort_upload(self, key: str, token: str) -> None:
        await asyncio.to_thread(self._staging(token).unlink, missing_ok=True)

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

    async def presigned_url(
        self, key: str, expires_seconds: int, *, response_headers: dict[str, str] | None = None
    ) -> str | None:
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
