"""Object storage on an S3-compatible server (AWS, MinIO, SeaweedFS, R2)."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager, suppress
from functools import cache
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import BotoCoreError, ClientError

from meatlizard.core.storage import s3_uploads
from meatlizard.core.storage.base import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    NOT_FOUND_CODES,
    InvalidRange,
    ObjectInfo,
    ObjectNotFound,
    ObjectStorage,
    Progress,
    StorageError,
    _check_range,
    validate_key,
)


@cache
def _session() -> AioSession:
    """One botocore session per process: each new one reads the S3 service model's JSON again
    (about 0.1 s of CPU), and a process that opens several clients needs it once."""
    return get_session()


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
            _session().create_client(
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
        with self._errors(key):
            return await s3_uploads.put(client, self.bucket, key, chunks, content_type)

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

    async def begin_upload(self, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        validate_key(key)
        client = await self.client()
        with self._errors(key):
            created = await client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )
        token: str = created["UploadId"]
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
        validate_key(key)
        client = await self.client()
        with self._errors(key):
            return await s3_uploads.append(
                client, self.bucket, key, token, offset, chunks, progress=progress
            )

    async def finish_upload(
        self, key: str, token: str, size: int, *, content_type: str = DEFAULT_CONTENT_TYPE
    ) -> None:
        validate_key(key)
        client = await self.client()
        with self._errors(key):
            await s3_uploads.finish(client, self.bucket, key, token, size)

    async def abort_upload(self, key: str, token: str) -> None:
        validate_key(key)
        client = await self.client()
        with self._errors(key), suppress(ObjectNotFound):
            await s3_uploads.abort(client, self.bucket, key, token)

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

    async def presigned_url(
        self, key: str, expires_seconds: int, *, response_headers: dict[str, str] | None = None
    ) -> str | None:
        validate_key(key)
        if not 1 <= expires_seconds <= 7 * 24 * 3600:  # the SigV4 maximum
            raise ValueError("expires_seconds must be between 1 and 604800 (7 days)")
        client = await self.client()
        url: str = await client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, **_response_params(response_headers)},
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


def _response_params(headers: dict[str, str] | None) -> dict[str, str]:
    names = {
        "content-type": "ResponseContentType",
        "content-disposition": "ResponseContentDisposition",
    }
    return {names[k.lower()]: v for k, v in (headers or {}).items() if k.lower() in names}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
