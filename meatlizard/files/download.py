"""Serving a stored file over HTTP: validators, single byte ranges, safe headers, streaming."""

from __future__ import annotations

import re
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from meatlizard.core.errors import Gone
from meatlizard.core.storage import ObjectNotFound, ObjectStorage
from meatlizard.files.metering import DownloadMeter
from meatlizard.files.models import StoredFile
from meatlizard.files.sniff import content_disposition, is_dangerous, shows_inline

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
SANDBOX_CSP = "sandbox; default-src 'none'"


class Unsatisfiable(Exception):
    """The Range header asks only for bytes past the end of the file."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Return the (first, last) bytes of a single range, or None to send the whole file.

    Several ranges, or a header we cannot read, are ignored as RFC 9110 allows.
    """
    if not header:
        return None
    match = RANGE_RE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, end


def etag_of(item: StoredFile) -> str:
    """Return the file's strong validator (its content never changes once finished)."""
    stamp = int(item.completed_at.timestamp()) if item.completed_at else 0
    return f'"{item.id}-{item.size}-{stamp}"'


def _not_modified(request: Request, etag: str, item: StoredFile) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        return match.strip() == "*" or etag in [tag.strip() for tag in match.split(",")]
    since = request.headers.get("if-modified-since")
    if since and item.completed_at is not None:
        try:
            return item.completed_at.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _range_applies(request: Request, etag: str, modified: str) -> bool:
    condition = request.headers.get("if-range")
    return condition is None or condition.strip() in (etag, modified)


def base_headers(item: StoredFile, *, download: bool) -> dict[str, str]:
    """Content headers: the sniffed type, a safe disposition and, for risky types, a sandbox."""
    inline = shows_inline(item.content_type, item.name) and not download
    content_type = item.content_type
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(item.name, inline=inline),
        "X-Content-Type-Options": "nosniff",
        "Accept-Ranges": "bytes",
    }
    if is_dangerous(item.content_type, item.name):
        headers["Content-Security-Policy"] = SANDBOX_CSP
    return headers


async def file_response(
    request: Request,
    storage: ObjectStorage,
    item: StoredFile,
    *,
    download: bool = False,
    redirect_seconds: int | None = None,
    meter: DownloadMeter | None = None,
) -> Response:
    """Answer GET or HEAD for a file: 304, 416, 206 with one range, 200, or a signed redirect.

    With a `meter`, the bytes sent count against the file's download limit, and the file is
    never handed out by a signed redirect (its copies could not be counted).
    """
    etag = etag_of(item)
    modified = format_datetime(item.completed_at or item.created_at, usegmt=True)
    headers = base_headers(item, download=download)
    headers.update({"ETag": etag, "Last-Modified": modified, "Cache-Control": "private"})
    if _not_modified(request, etag, item):
        return Response(status_code=304, headers={"ETag": etag, "Last-Modified": modified})
    if redirect_seconds is not None and meter is None:
        wanted = {k: headers[k] for k in ("Content-Type", "Content-Disposition")}
        url = await storage.presigned_url(
            item.storage_key, redirect_seconds, response_headers=wanted
        )
        if url is not None:
            return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    header = request.headers.get("range") if _range_applies(request, etag, modified) else None
    return await range_response(
        request, storage, item.storage_key, item.size, headers, header, meter=meter
    )


async def range_response(
    request: Request,
    storage: ObjectStorage,
    key: str,
    size: int,
    headers: dict[str, str],
    range_header: str | None,
    *,
    meter: DownloadMeter | None = None,
) -> Response:
    """Answer with the object, or the one byte range asked for (206), or 416; HEAD: headers."""
    try:
        wanted = parse_range(range_header, size)
    except Unsatisfiable:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    first, last = wanted or (0, size - 1)
    headers["Content-Length"] = str(max(0, last - first + 1))
    code = 200
    if wanted is not None:
        code = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    if request.method == "HEAD":
        return Response(status_code=code, headers=headers)
    length = max(0, last - first + 1)
    if meter is not None:
        await meter.charge(length)
    if size == 0:
        return Response(status_code=code, headers=headers)
    try:
        stream = await storage.open_stream(key, start=first, end=last)
    except BaseException as exc:
        if meter is not None:
            await meter.refund(length)
        if isinstance(exc, ObjectNotFound):  # deleted after its row was read
            raise Gone("this file was deleted") from None
        raise
    if meter is not None:
        stream = meter.metered(stream, length)
    return StreamingResponse(stream, status_code=code, headers=headers)
