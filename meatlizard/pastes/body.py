"""Reading a paste from a request: JSON, a form or a raw body, never past the size limit."""

from __future__ import annotations

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from meatlizard.api.errors import field_problems
from meatlizard.core.errors import InvalidInput
from meatlizard.pastes.schemas import PasteCreate

FRAMING_FACTOR = 2  # JSON escapes and form encoding can grow the text; the exact check follows
FRAMING_BYTES = 16 * 1024  # room for the other fields (title, password, ...)
TRUTHY = ("1", "true", "on")
FORM_KINDS = ("multipart/form-data", "application/x-www-form-urlencoded")


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"request body exceeds {limit} bytes; paste too large"
    )


def body_limit(kind: str, max_bytes: int) -> int:
    """Return how many body bytes a paste of at most `max_bytes` can need."""
    if kind == "application/json" or kind in FORM_KINDS:
        return max_bytes * FRAMING_FACTOR + FRAMING_BYTES
    return max_bytes  # a raw body is the paste itself


async def read_limited(request: Request, limit: int) -> bytes:
    """Read the body, refusing with 413 as soon as it passes `limit` (chunked or not)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # later form parsing reads this instead of the spent stream
    return body


def _content_kind(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def parse_create(request: Request, max_bytes: int) -> PasteCreate:
    """Parse JSON, a form (`curl -F content=<-`) or a raw body (`curl --data-binary @f`)."""
    kind = _content_kind(request)
    body = await read_limited(request, body_limit(kind, max_bytes))
    try:
        if kind == "application/json":
            return PasteCreate.model_validate_json(body)
        if kind == "multipart/form-data" or (kind in FORM_KINDS and b"content=" in body[:8]):
            return await _from_form(request)
        return PasteCreate(content=body.decode())
    except UnicodeDecodeError:
        raise InvalidInput("paste content must be valid UTF-8") from None
    except ValidationError as exc:
        raise RequestValidationError(field_problems(exc.errors(), "body")) from None


async def _from_form(request: Request) -> PasteCreate:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("content")
    if upload is not None and not isinstance(upload, str):
        fields["content"] = (await upload.read()).decode()
    fields.setdefault("content", "")
    flags = {name: fields.pop(name, "") in TRUTHY for name in ("burn_after_read", "encrypted")}
    return PasteCreate.model_validate({**fields, **flags})
