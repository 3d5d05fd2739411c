"""Pastes API: create (JSON, form or raw body), read, list, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import PlainTextResponse, Response

from meatlizard.api.deps import CurrentUser, DbDep, GuessesDep, OptionalUser
from meatlizard.auth.models import User
from meatlizard.core.errors import TooManyRequests
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.pastes import service
from meatlizard.pastes.body import parse_create
from meatlizard.pastes.deps import PasteLimiterDep, PastePolicyDep, PastesDep
from meatlizard.pastes.models import Paste
from meatlizard.pastes.schemas import PasteRead

router = APIRouter(prefix="/pastes", tags=["pastes"])
PASSWORD_HEADER = "X-Paste-Password"


def _creator(request: Request, user: User | None) -> str:
    return f"user:{user.id}" if user else f"ip:{request.client.host if request.client else '-'}"


def _refuse(retry_after: float) -> TooManyRequests:
    return TooManyRequests("too many pastes; slow down", retry_after)


async def check_rate(limiter: RateLimiter, request: Request, user: User | None) -> None:
    """Refuse, before reading the body, creators who already used up their rate."""
    decision = await limiter.peek(_creator(request, user))
    if not decision.allowed:
        raise _refuse(decision.retry_after_seconds)


async def count_paste(limiter: RateLimiter, request: Request, user: User | None) -> None:
    """Count one accepted paste against the creator's rate (refusing if it overflows)."""
    decision = await limiter.hit(_creator(request, user))
    if not decision.allowed:
        raise _refuse(decision.retry_after_seconds)


def paste_read(request: Request, paste: Paste) -> PasteRead:
    """Describe a paste with its absolute URLs."""
    base = str(request.base_url).rstrip("/")
    read = PasteRead.model_validate(paste)
    read.has_password = paste.password_hash is not None
    read.url = f"{base}/p/{paste.id}"
    read.raw_url = f"{base}/p/{paste.id}/raw"
    return read


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PasteRead)
async def create_paste(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    pastes: PastesDep,
    rules: PastePolicyDep,
    limiter: PasteLimiterDep,
) -> Response:
    """Create a paste from JSON, a form or a raw body; curl without JSON gets the URL as text."""
    since = pastes.started()
    # Only accepted pastes count against the rate: a refused one cost us no write, and a
    # typo must not lock its author out. Creators already over the limit are refused early.
    await check_rate(limiter, request, user)
    try:
        data = await parse_create(request, rules.max_bytes)
        paste, delete_token = await service.build_paste(owner=user, data=data, policy=rules)
    except service.TooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    await count_paste(limiter, request, user)
    await service.save_paste(db, paste)
    await pastes.remember(paste, paste.rendered, since=since)  # its link is read next
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
    guesses: GuessesDep,
    x_paste_password: Annotated[str | None, Header()] = None,
) -> dict[str, object]:
    """Return a paste with its content (burns a burn-after-read paste)."""
    paste = await service.read_paste(
        db, paste_id=paste_id, viewer=user, password=x_paste_password, guesses=guesses
    )
    return {**paste_read(request, paste).model_dump(mode="json"), "content": paste.content}


@router.delete("/{paste_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_paste(
    paste_id: str,
    user: OptionalUser,
    db: DbDep,
    pastes: PastesDep,
    token: str | None = None,
    x_delete_token: Annotated[str | None, Header()] = None,
) -> None:
    """Delete a paste as its owner or with its delete token (header or ?token=)."""
    await service.delete_paste(db, paste_id=paste_id, user=user, token=x_delete_token or token)
    await pastes.forget(paste_id)
