"""Auth API: register, log in and out, personal API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from meatlizard.api.deps import (
    SESSION_COOKIE,
    CacheDep,
    CurrentUser,
    DbDep,
    RowId,
    SettingsDep,
    client_address,
    request_token,
    set_csrf_cookie,
)
from meatlizard.api.errors import ErrorOut
from meatlizard.auth import registration, service
from meatlizard.auth.deps import LoginLimitersDep
from meatlizard.auth.models import TokenKind
from meatlizard.auth.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    Credentials,
    LoginResult,
    Registration,
    UserRead,
    UserUpdate,
)
from meatlizard.core.security import new_csrf_token, secure_cookie
from meatlizard.core.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])


def set_session_cookie(
    response: Response, settings: Settings, token: str, request: Request
) -> None:
    """Store the session token in an HttpOnly cookie, with a CSRF token made for it."""
    secure = secure_cookie(settings.cookie_secure, request.url.scheme)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    set_csrf_cookie(response, new_csrf_token(token), secure=secure)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses={
        403: {"model": ErrorOut, "description": "registration is closed or needs an invite"},
        409: {"model": ErrorOut, "description": "the username is taken"},
        429: {"model": ErrorOut, "description": "too many new accounts from this address"},
    },
)
async def register(
    body: Registration, request: Request, db: DbDep, settings: SettingsDep, cache: CacheDep
) -> UserRead:
    """Create an account (REGISTRATION: open, invite-only, closed); the first is an admin."""
    invite = registration.invite_needed(settings, body.invite)
    await registration.check_rate(cache, settings, client_address(request))
    user = await service.register(db, username=body.username, password=body.password, invite=invite)
    return UserRead.model_validate(user)


@router.post("/login", response_model=LoginResult)
async def login(
    body: Credentials,
    request: Request,
    response: Response,
    db: DbDep,
    settings: SettingsDep,
    limiters: LoginLimitersDep,
) -> LoginResult:
    """Exchange username and password for a bearer token (also set as a cookie)."""
    raw, token = await service.login(
        db,
        username=body.username,
        password=body.password,
        client=client_address(request),
        limiter=limiters.by_name,
        address_limiter=limiters.by_address,
        session_days=settings.session_days,
    )
    set_session_cookie(response, settings, raw, request)
    user = await service.user_for_token(db, raw=raw)
    return LoginResult(
        access_token=raw, expires_at=token.expires_at, user=UserRead.model_validate(user)
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, user: CurrentUser, db: DbDep) -> Response:
    """Revoke the token used for this request and clear the cookie."""
    raw = request_token(request)
    if raw:
        await service.revoke_token(db, raw=raw)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/me", response_model=UserRead)
async def me(user: CurrentUser) -> UserRead:
    """Return the logged-in account."""
    return UserRead.model_validate(user)


@router.patch("/me", response_model=UserRead)
async def update_me(body: UserUpdate, user: CurrentUser, db: DbDep) -> UserRead:
    """Change your preferences (e.g. keep transcripts of new chats by default)."""
    if body.transcripts_default is not None:
        user.transcripts_default = body.transcripts_default
        await db.commit()
    return UserRead.model_validate(user)


@router.get("/tokens", response_model=list[ApiTokenRead])
async def list_tokens(user: CurrentUser, db: DbDep) -> list[ApiTokenRead]:
    """List your personal API tokens (secrets are never shown again)."""
    return [ApiTokenRead.model_validate(t) for t in await service.list_api_tokens(db, user=user)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=ApiTokenCreated)
async def create_token(body: ApiTokenCreate, user: CurrentUser, db: DbDep) -> ApiTokenCreated:
    """Create a personal API token for scripts; its secret is shown only in this response."""
    raw, token = await service.issue_token(db, user=user, kind=TokenKind.API, name=body.name)
    return ApiTokenCreated(token=raw, **ApiTokenRead.model_validate(token).model_dump())


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_token(token_id: RowId, user: CurrentUser, db: DbDep) -> None:
    """Revoke one of your personal API tokens."""
    await service.delete_api_token(db, user=user, token_id=token_id)
