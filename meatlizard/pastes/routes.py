"""Pastes API: create (JSON, form or raw body), read, list, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import PlainTextResponse, Response
from pydantic import ValidationError

from meatlizard.api.deps import CurrentUser, DbDep, OptionalUser, ServicesDep
from meatlizard.auth.models import User
from meatlizard.core.cache import RateLimiter
from meatlizard.core.config import Rate, Settings
from meatlizard.core.errors import InvalidInput, TooManyRequests
from meatlizard.pastes import service
from meatlizard.pastes.models import Paste
from meatlizard.pastes.schemas import PasteCreate, PasteRead

router = APIRouter(prefix="/pastes", tags=["pastes"])
PASSWORD_HEADER = "X-Paste-Password"


def policy(settings: Settings) -> service.PastePolicy:
    """Return the operator's paste policy."""
    return service.PastePolicy(
        max_bytes=settings.paste_max_bytes,
        default_expiry=settings.paste_default_expiry,
        allow_anonymous=settings.paste_allow_anonymous,
    )


async def check_rate(services: ServicesDep, request: Request, user: User | None) -> None:
    """Refuse creators who paste faster than the configured rate."""
    limiter = RateLimiter(services.cache, "paste", Rate.parse(services.settings.paste_rate_limit))
    who = f"user:{user.id}" if user else f"ip:{request.client.host if request.client else '-'}"
    decision = await limiter.hit(who)
    if not decision.allowed:
        raise TooManyRequests("too many pastes; slow down", decision.retry_after_seconds)


def paste_read(request: Request, paste: Paste) -> PasteRead:
    """Describe a paste with its absolute URLs."""
    base = str(request.base_url).rstrip("/")
    read = PasteRead.model_validate(paste)
    read.has_password = paste.password_hash is not None
    read.url = f"{base}/p/{paste.id}"
    read.raw_url = f"{base}/p/{paste.id}/raw"
    return read


async def _body(request: Request) -> PasteCreate:
    """Parse JSON, a form (`curl -F content=<-`) or a raw body (`curl --data-binary @f`)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            return PasteCreate.model_validate_json(await request.body())
        if kind in ("multipart/form-data", "application/x-www-form-urlencoded") and (
            kind == "multipart/form-data" or b"content=" in (await request.body())[:8]
        ):
            form = await request.form()
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            upload = form.get("content")
            if upload is not None and not isinstance(upload, str):
                fields["content"] = (await upload.read()).decode()
            fields.setdefault("content", "")
            burn = fields.pop("burn_after_read", "")
            return PasteCreate.model_validate(
                {**fields, "burn_after_read": burn in ("1", "true", "on")}
            )
        return PasteCreate(content=(await request.body()).decode())
    except UnicodeDecodeError:
        raise InvalidInput("paste content must be valid UTF-8") from None
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            exc.errors(include_url=False, include_context=False),
        ) from None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PasteRead)
async def create_paste(
    request: Request, user: OptionalUser, db: DbDep, services: ServicesDep
) -> Response:
    """Create a paste from JSON, a form or a raw body; curl without JSON gets the URL as text."""
    rules = policy(services.settings)
    length = int(request.headers.get("content-length") or 0)
    if length > rules.max_bytes * 2:  # room for form framing; the exact check follows
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "paste too large")
    await check_rate(services, request, user)
    try:
        data = await _body(request)
        paste, delete_token = await service.create_paste(db, owner=user, data=data, policy=rules)
    except service.TooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    read = paste_read(request, paste)
    read.delete_token = delete_token
    sent_json = request.headers.get("content-type", "").startswith("application/json")
    if request.headers.get("user-agent", "").startswith("curl/") and not sent_json:
        return PlainTextResponse(read.url + "\n", status_code=status.HTTP_201_CREATED)
    return Response(read.model_dump_json(), status_code=201, media_type="application/json")


@router.get("", response_model=list[PasteRead])
async def list_pastes(request: Request, user: CurrentUser, db: DbDep) -> list[PasteRead]:
    """List your pastes, newest first."""
    return [paste_read(request, p) for p in await service.list_pastes(db, owner=user)]


@router.get("/{paste_id}")
async def get_paste(
    paste_id: str,
    request: Request,
    user: OptionalUser,
    db: DbDep,
    x_paste_password: Annotated[str | None, Header()] = None,
) -> dict[str, object]:
    """Return a paste with its content (burns a burn-after-read paste)."""
    paste = await service.read_paste(db, paste_id=paste_id, viewer=user, password=x_paste_password)
    return {**paste_read(request, paste).model_dump(mode="json"), "content": paste.content}


@router.delete("/{paste_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_paste(
    paste_id: str,
    user: OptionalUser,
    db: DbDep,
    token: str | None = None,
    x_delete_token: Annotated[str | None, Header()] = None,
) -> None:
    """Delete a paste as its owner or with its delete token (header or ?token=)."""
    await service.delete_paste(db, paste_id=paste_id, user=user, token=x_delete_token or token)
