"""Uploads on S3: a stream stored in parts, and resumable uploads.

A stream of unknown length is sent with one put_object when it fits in a part, otherwise as a
multipart upload of PART_SIZE parts, aborted if anything fails.

A resumable upload is a multipart upload plus a small 'tail' object between appends. S3 parts
must be at least 5 MiB (except the last), but a tus client may send any amount per request.
Every part therefore has the same size, PART_SIZE, so part N always holds bytes
(N-1)*PART_SIZE .. N*PART_SIZE-1. The bytes after the last full part are kept in a tail object
between requests and prepended to the next append. A tail is named by the offset it ends at,
so an append the caller never recorded cannot spoil the tail of the recorded offset. Each part
is gathered in a temporary file, never in memory; re-uploading a part number replaces it,
and each part's ETag is recorded next to the tails for the final CompleteMultipartUpload.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import IO, Any

from meatlizard.core.storage.base import CHUNK_SIZE, PART_SIZE, RESERVED_PREFIX, Progress

TAIL_PREFIX = f"{RESERVED_PREFIX}tail/"


async def put(
    client: Any, bucket: str, key: str, chunks: AsyncIterator[bytes], content_type: str
) -> int:
    """Store a stream under `key` and return its size (multipart beyond one part)."""
    target = {"Bucket": bucket, "Key": key}
    size, buffer, parts = 0, bytearray(), list[dict[str, Any]]()
    upload_id: str | None = None
    try:
        async for chunk in chunks:
            buffer += chunk
            size += len(chunk)
            # Strictly greater: the final part is then never empty, and a stream of at most
            # one part is sent with a single put_object.
            while len(buffer) > PART_SIZE:
                if upload_id is None:
                    created = await client.create_multipart_upload(
                        **target, ContentType=content_type
                    )
                    upload_id = created["UploadId"]
                parts.append(await _put_part(client, target, upload_id, len(parts) + 1, buffer))
                del buffer[:PART_SIZE]
        if upload_id is None:
            await client.put_object(**target, Body=bytes(buffer), ContentType=content_type)
            return size
        parts.append(await _put_part(client, target, upload_id, len(parts) + 1, buffer))
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


async def _put_part(
    client: Any, target: dict[str, str], upload_id: str, number: int, buffer: bytearray
) -> dict[str, Any]:
    response = await client.upload_part(
        **target, UploadId=upload_id, PartNumber=number, Body=bytes(buffer[:PART_SIZE])
    )
    return {"ETag": response["ETag"], "PartNumber": number}


def tail_key(key: str, offset: int | None = None) -> str:
    """Return where the bytes before `offset` after the last full part wait (or their folder)."""
    return f"{TAIL_PREFIX}{key}/" + ("" if offset is None else str(offset))


async def append(
    client: Any,
    bucket: str,
    key: str,
    upload_id: str,
    offset: int,
    chunks: AsyncIterator[bytes],
    *,
    progress: Progress | None = None,
) -> int:
    """Append the chunks after `offset` bytes; return the new offset.

    `progress` hears each part boundary stored, and the end of a tail saved on cancellation.
    """
    spool: IO[bytes] = await asyncio.to_thread(tempfile.TemporaryFile)
    held = 0
    try:
        part = offset // PART_SIZE + 1
        held = offset % PART_SIZE
        if held:
            await _download_tail(client, bucket, key, offset, spool)
        await _drop_tails(client, bucket, key, below=offset)  # the caller moved past them
        async for chunk in chunks:
            view = memoryview(chunk)
            while view:
                room = PART_SIZE - held
                taken = min(room, len(view))
                await asyncio.to_thread(spool.write, view[:taken])
                held, offset, view = held + taken, offset + taken, view[taken:]
                if held == PART_SIZE:
                    await _upload_part(client, bucket, key, upload_id, part, spool)
                    part, held = part + 1, 0
                    if progress is not None:
                        await progress(offset)
        if held:
            await _save_tail(client, bucket, key, offset, held, spool)
        return offset
    except asyncio.CancelledError:
        # A server shutting down: keep the bytes of the unfinished part as the tail.
        if progress is not None:
            await _keep(client, bucket, key, offset, held, spool, progress)
        raise
    finally:
        await asyncio.to_thread(spool.close)


async def _save_tail(
    client: Any, bucket: str, key: str, offset: int, held: int, spool: IO[bytes]
) -> None:
    await asyncio.to_thread(spool.seek, 0)
    body = await asyncio.to_thread(spool.read, held)
    await client.put_object(Bucket=bucket, Key=tail_key(key, offset), Body=body)


async def _keep(
    client: Any,
    bucket: str,
    key: str,
    offset: int,
    held: int,
    spool: IO[bytes],
    progress: Progress,
) -> None:
    if held == PART_SIZE:  # cancelled while the part was sent: it may be missing
        offset, held = offset - PART_SIZE, 0
    if held:
        await _save_tail(client, bucket, key, offset, held, spool)
    await progress(offset)


async def finish(client: Any, bucket: str, key: str, upload_id: str, size: int) -> None:
    """Send the tail as the last part and complete the multipart upload."""
    held = size % PART_SIZE
    if held or size == 0:
        with tempfile.TemporaryFile() as spool:
            if held:
                await _download_tail(client, bucket, key, size, spool)
            await _upload_part(client, bucket, key, upload_id, size // PART_SIZE + 1, spool)
    parts = []
    for number in range(1, max(1, -(-size // PART_SIZE)) + 1):
        # Our own record, not ListParts: some servers (SeaweedFS) list a replaced part twice.
        response = await client.get_object(Bucket=bucket, Key=_etag_key(key, number))
        async with response["Body"] as body:
            etag = (await body.read()).decode()
        parts.append({"ETag": etag, "PartNumber": number})
    await client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    await _drop_tails(client, bucket, key)


async def abort(client: Any, bucket: str, key: str, upload_id: str) -> None:
    """Abort the multipart upload and drop its tail."""
    await _drop_tails(client, bucket, key)
    await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def _etag_key(key: str, number: int) -> str:
    return f"{tail_key(key)}part-{number}"


async def _drop_tails(client: Any, bucket: str, key: str, below: int | None = None) -> None:
    folder = tail_key(key)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder)
    async for page in pages:
        for item in page.get("Contents", []):
            ends_at = item["Key"][len(folder) :]
            if below is None or (ends_at.isdigit() and int(ends_at) < below):
                await client.delete_object(Bucket=bucket, Key=item["Key"])


async def _download_tail(client: Any, bucket: str, key: str, offset: int, spool: IO[bytes]) -> None:
    held = offset % PART_SIZE
    response = await client.get_object(Bucket=bucket, Key=tail_key(key, offset))
    body = response["Body"]
    try:
        while chunk := await body.read(CHUNK_SIZE):
            await asyncio.to_thread(spool.write, chunk)
    finally:
        body.close()
    if await asyncio.to_thread(spool.tell) != held:
        raise OSError(f"the stored tail of {key!r} is not {held} bytes long")


async def _upload_part(
    client: Any, bucket: str, key: str, upload_id: str, number: int, spool: IO[bytes]
) -> None:
    size = await asyncio.to_thread(spool.tell)
    await asyncio.to_thread(spool.seek, 0)
    # One part (at most PART_SIZE) is read at a time, so memory stays flat whatever the file.
    body = await asyncio.to_thread(spool.read, size)
    response = await client.upload_part(
        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
    )
    etag = response["ETag"].encode()
    await client.put_object(Bucket=bucket, Key=_etag_key(key, number), Body=etag)
    await asyncio.to_thread(spool.seek, 0)
    await asyncio.to_thread(spool.truncate)
