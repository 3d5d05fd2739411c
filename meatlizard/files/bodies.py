"""Upload bodies: as far as they came (tus), whole or not at all (one-shot), or from a spool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import IO

from fastapi import Request
from starlette.requests import ClientDisconnect

from meatlizard.core.errors import ServiceError
from meatlizard.core.storage.base import CHUNK_SIZE


async def received(request: Request) -> AsyncIterator[bytes]:
    """Yield the request body; a dropped client just ends it, so what came is kept."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        return


class IncompleteBody(ServiceError):
    """A one-shot upload's body ended early: the client went away or sent less than declared."""


async def whole_body(request: Request, length: int | None) -> AsyncIterator[bytes]:
    """Yield the request body, raising IncompleteBody unless it arrives whole.

    A one-shot upload cannot be resumed, so a part of it is worth nothing: raising makes the
    storage drop what it wrote, and no file is recorded.
    """
    seen = 0
    try:
        async for chunk in request.stream():
            seen += len(chunk)
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise IncompleteBody(f"the client went away after {seen} bytes") from None
    if length is not None and seen != length:
        raise IncompleteBody(f"the body has {seen} bytes, not the {length} of Content-Length")


async def replay(spool: IO[bytes]) -> AsyncIterator[bytes]:
    """Yield a spooled body in chunks, closing the spool at the end."""
    with spool:
        while chunk := await asyncio.to_thread(spool.read, CHUNK_SIZE):
            yield chunk
