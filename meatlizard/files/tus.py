"""tus 1.0 resumable uploads: core, creation(-with-upload), termination, checksum, expiration."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import tempfile
from collections.abc import AsyncIterator, Callable
from email.utils import format_datetime
from typing import IO, Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response

from meatlizard.api.deps import CacheDep, CurrentUser, DbDep, SettingsDep, StorageDep
from meatlizard.api.errors import status_for
from meatlizard.core.db import utcnow
from meatlizard.core.errors import InvalidInput, ServiceError
from meatlizard.core.lease import Lease
from meatlizard.core.settings import Settings
from meatlizard.files import service
from meatlizard.files.bodies import received, replay
from meatlizard.files.deps import FilePolicyDep
from meatlizard.files.draining import stopping, upload_in_progress
from meatlizard.files.models import UPLOADING, StoredFile
from meatlizard.files.options import upload_options

router = APIRouter(prefix="/files/tus", tags=["files"])
TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
CHECKSUMS: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "md5": hashlib.md5,
}
OFFSET_TYPE = "application/offset+octet-stream"
CHECKSUM_MISMATCH = 460
LOCKED = 423
LOCK_SECONDS = 10.0  # renewed while the write runs; a killed process holds it this long


def _headers(item: StoredFile | None = None, **extra: str) -> dict[str, str]:
    headers = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}
    if item is not None:
        headers["Upload-Offset"] = str(item.offset)
        headers["Upload-Length"] = str(item.size)
        if item.upload_expires_at is not None:
            headers["Upload-Expires"] = format_datetime(item.upload_expires_at, usegmt=True)
    return headers


def _refuse(code: int, detail: str, **extra: str) -> HTTPException:
    return HTTPException(code, detail, headers=_headers(None, **extra))


def _check_version(request: Request) -> None:
    sent = request.headers.get("tus-resumable")
    if sent != TUS_VERSION:
        raise _refuse(
            status.HTTP_412_PRECONDITION_FAILED,
            f"Tus-Resumable must be {TUS_VERSION}, not {sent!r}",
            **{"Tus-Version": TUS_VERSION},
        )


def _number(request: Request, name: str) -> int:
    raw = request.headers.get(name)
    if raw is None or not (raw.isascii() and raw.isdigit()):  # "²".isdigit() is True
        raise _refuse(status.HTTP_400_BAD_REQUEST, f"{name} must be a non-negative integer")
    return int(raw)


def parse_metadata(raw: str) -> dict[str, str]:
    """Decode Upload-Metadata: comma-separated `key base64value` pairs."""
    found: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = pair.partition(" ")
        try:
            found[key] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _refuse(400, f"Upload-Metadata value of {key!r} is not base64 UTF-8") from None
    return found


def _service_error(exc: ServiceError) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=status_for(exc), headers=_headers())


@router.options("", status_code=204)
async def tus_options(settings: SettingsDep) -> Response:
    """Advertise the tus version, extensions, size limit and checksum algorithms."""
    return Response(status_code=204, headers=advertise(settings))


@router.post("", status_code=201)
async def tus_create(
    request: Request,
    user: CurrentUser,
    db: DbDep,
    cache: CacheDep,
    storage: StorageDep,
    policy: FilePolicyDep,
) -> Response:
    """Create an upload from Upload-Length and Upload-Metadata.

    Metadata: filename, filetype, and optionally folder, visibility (public, unlisted,
    private), expires_in (10m, 1h, 1d, 1w, 1M, never; counted from completion), password
    (at most 200 characters) and max_downloads (1 to 1000000). A bad value is a 400 that
    names the key, and nothing is created.
    """
    _check_version(request)
    if "upload-defer-length" in request.headers:
        raise _refuse(400, "Upload-Defer-Length is not supported; send Upload-Length")
    length = _number(request, "Upload-Length")
    meta = parse_metadata(request.headers.get("upload-metadata", ""))
    try:
        chosen = upload_options(meta)
    except InvalidInput as exc:
        raise _refuse(400, str(exc)) from None
    try:
        item = await service.create_upload(
            db,
            storage,
            owner=user,
            name=meta.get("filename") or meta.get("name") or "file",
            size=length,
            declared_type=meta.get("filetype") or meta.get("type") or "",
            policy=policy,
            options=chosen,
        )
        if request.headers.get("content-type") == OFFSET_TYPE and item.status == UPLOADING:
            await _write(request, cache, storage, policy, db, item, 0)
    except ServiceError as exc:
        return _service_error(exc)
    location = f"{str(request.base_url).rstrip('/')}/api/v1/files/tus/{item.id}"
    return Response(status_code=201, headers=_headers(item, Location=location))


async def _upload(db: DbDep, user: CurrentUser, file_id: str) -> StoredFile:
    try:
        item = await service.get_owned(db, file_id=file_id, owner=user)
    except ServiceError as exc:
        raise _refuse(status.HTTP_404_NOT_FOUND, str(exc)) from None
    expires = item.upload_expires_at
    if item.status == UPLOADING and expires is not None and expires <= utcnow():
        raise _refuse(status.HTTP_410_GONE, "this upload expired; start a new one")
    return item


@router.head("/{file_id}")
async def tus_head(file_id: str, request: Request, user: CurrentUser, db: DbDep) -> Response:
    """Report how many bytes of the upload the server holds."""
    _check_version(request)
    item = await _upload(db, user, file_id)
    return Response(status_code=200, headers=_headers(item))


@router.patch("/{file_id}", status_code=204)
async def tus_patch(
    file_id: str,
    request: Request,
    user: CurrentUser,
    db: DbDep,
    cache: CacheDep,
    storage: StorageDep,
    policy: FilePolicyDep,
) -> Response:
    """Append the body at Upload-Offset (409 on mismatch, 460 on a checksum mismatch)."""
    _check_version(request)
    if request.headers.get("content-type") != OFFSET_TYPE:
        raise _refuse(415, f"Content-Type must be {OFFSET_TYPE}")
    offset = _number(request, "Upload-Offset")
    item = await _upload(db, user, file_id)
    if offset != item.offset:
        raise _refuse(409, f"Upload-Offset {offset} does not match the server's {item.offset}")
    try:
        await _write(request, cache, storage, policy, db, item, offset)
    except ServiceError as exc:
        return _service_error(exc)
    return Response(status_code=204, headers=_headers(item))


async def _write(
    request: Request,
    cache: CacheDep,
    storage: StorageDep,
    policy: FilePolicyDep,
    db: DbDep,
    item: StoredFile,
    offset: int,
) -> None:
    lock = Lease(cache, f"files:upload:{item.id}", LOCK_SECONDS)
    if not await lock.acquire():
        raise _refuse(LOCKED, "another request is writing to this upload; retry shortly")
    try:
        # The offset read before the lock may be stale: another PATCH may have written since.
        # Read it again under the lock (a new transaction, so SQLite shows the latest too),
        # and let append check it against the request's.
        await db.commit()
        await db.refresh(item)
        chunks = received(request)
        checksum = request.headers.get("upload-checksum")
        if checksum:
            spool = await _verified(chunks, checksum)
            chunks = replay(spool)
        with upload_in_progress():
            await service.append(
                db, storage, item=item, offset=offset, chunks=chunks, policy=policy
            )
    except asyncio.CancelledError:
        if not stopping():
            raise
        asyncio.current_task().uncancel()  # type: ignore[union-attr]
        raise _refuse(503, "the server is restarting; resume from Upload-Offset") from None
    finally:
        await lock.release()


async def _verified(chunks: AsyncIterator[bytes], header: str) -> IO[bytes]:
    """Spool the body to disk while hashing it; refuse it whole if the digest differs."""
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise _refuse(400, f"checksum algorithm {algorithm!r} is not one of {', '.join(CHECKSUMS)}")
    try:
        expected = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise _refuse(400, "Upload-Checksum digest is not base64") from None
    digest = CHECKSUMS[algorithm]()
    spool: IO[bytes] = await asyncio.to_thread(tempfile.TemporaryFile)
    async for chunk in chunks:
        digest.update(chunk)
        await asyncio.to_thread(spool.write, chunk)
    if digest.digest() != expected:
        spool.close()
        raise _refuse(CHECKSUM_MISMATCH, f"the body's {algorithm} digest does not match")
    await asyncio.to_thread(spool.seek, 0)
    return spool


@router.delete("/{file_id}", status_code=204)
async def tus_terminate(
    file_id: str, request: Request, user: CurrentUser, db: DbDep, storage: StorageDep
) -> Response:
    """Terminate an upload (or delete the finished file) and free its space."""
    _check_version(request)
    item = await service.get_owned(db, file_id=file_id, owner=user)
    await service.delete_file(db, storage, item=item)
    return Response(status_code=204, headers=_headers())


def advertise(settings: Settings) -> dict[str, str]:
    """Headers every tus answer carries, and OPTIONS in full."""
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(settings.files_max_upload_bytes),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
    }
