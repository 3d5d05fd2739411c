"""Typed dependencies shared by every route: core resources, database session, current user.

They read `app.state.services`, which the composition root (`meatlizard.runtime`) puts there,
without importing its type: the domains stand below the root, and each domain's own `deps.py`
does the same for what only it uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Path, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.auth import service as auth_service
from meatlizard.auth.models import User
from meatlizard.core.cache import Cache
from meatlizard.core.guesses import Guesses
from meatlizard.core.jobs import JobRunner
from meatlizard.core.numbers import INT64_MAX
from meatlizard.core.security import csrf_token_fits, new_csrf_token, same_secret
from meatlizard.core.settings import Rate, Settings
from meatlizard.core.storage import ObjectStorage

SESSION_COOKIE = "ml_session"
CSRF_COOKIE = "ml_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# A numeric id in a path: positive and 64-bit, so a huge one is a 422, not a database error.
RowId = Annotated[int, Path(ge=1, le=INT64_MAX)]

_bearer = HTTPBearer(auto_error=False, description="A login access_token or a personal API token")


def from_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """Make a dependency returning what the composition root put on the app's state as `name`.

    The alias that uses it names the type; the dependency is async, since a plain def would
    cost a thread hop on every request.
    """

    async def resource(request: Request) -> Any:
        return getattr(request.app.state.services, name)

    resource.__name__ = f"get_{name}"
    return resource


def settings_of(app_state: Any) -> Settings:
    """Return the operator's settings from the app's state (also for ASGI middleware)."""
    settings: Settings = app_state.services.settings
    return settings


def session_maker_of(app_state: Any) -> async_sessionmaker[AsyncSession]:
    """Return the session factory from the app's state (also for sockets and error pages)."""
    sessions: async_sessionmaker[AsyncSession] = app_state.services.sessions
    return sessions


SettingsDep = Annotated[Settings, Depends(from_state("settings"))]
CacheDep = Annotated[Cache, Depends(from_state("cache"))]  # Redis or in-process
# The session factory, for work that opens its own sessions.
SessionMakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(from_state("sessions"))]
StorageDep = Annotated[ObjectStorage, Depends(from_state("storage"))]  # S3 or a local folder
JobsDep = Annotated[JobRunner, Depends(from_state("jobs"))]


async def get_db(sessions: SessionMakerDep) -> AsyncIterator[AsyncSession]:
    """Yield a database session for one request."""
    async with sessions() as session:
        yield session


DbDep = Annotated[AsyncSession, Depends(get_db)]


def client_address(request: Request) -> str:
    """Return the caller's address for throttling."""
    return request.client.host if request.client else "unknown"


async def get_guesses(request: Request, settings: SettingsDep, cache: CacheDep) -> Guesses:
    """Return the caller's counter of guesses at paste and file passwords."""
    rate = Rate.parse(settings.password_guess_rate_limit)
    return Guesses(cache, client_address(request), rate)


GuessesDep = Annotated[Guesses, Depends(get_guesses)]


def kept_csrf_token(request: Request) -> str | None:
    """Return the browser's CSRF token if it was made for the session cookie it came with."""
    token = request.cookies.get(CSRF_COOKIE)
    return token if csrf_token_fits(token, request.cookies.get(SESSION_COOKIE)) else None


def csrf_token_for(request: Request) -> str:
    """Return the browser's CSRF token when it was made for its session, else a new one."""
    return kept_csrf_token(request) or new_csrf_token(request.cookies.get(SESSION_COOKIE))


def set_csrf_cookie(response: Response, token: str, *, secure: bool) -> None:
    """Give the browser its CSRF token: readable by the page's script, never sent cross-site."""
    response.set_cookie(CSRF_COOKIE, token, samesite="strict", secure=secure, httponly=False)


def request_token(request: Request) -> str | None:
    """Return the raw token this request came with: bearer header first, then the cookie."""
    header = request.headers.get("authorization", "")
    return (
        header[7:] if header.lower().startswith("bearer ") else request.cookies.get(SESSION_COOKIE)
    )


def check_csrf(request: Request, form_token: str | None = None) -> None:
    """Refuse cookie-authenticated writes that lack the matching CSRF token, or whose token
    was not made for this session (one planted in the browser by someone else)."""
    kept = kept_csrf_token(request)
    sent = form_token or request.headers.get(CSRF_HEADER)
    if not kept or not sent or not same_secret(kept, sent):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token; reload the page"
        )


async def _caller(
    request: Request,
    db: AsyncSession,
    credentials: HTTPAuthorizationCredentials | None,
    form_token: str | None = None,
) -> User | None:
    if credentials is not None:
        user = await auth_service.user_for_token(db, raw=credentials.credentials)
        if user is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "invalid or expired token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return user
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    user = await auth_service.user_for_token(db, raw=raw)
    if user is not None and request.method not in SAFE_METHODS:
        # Cookies ride along on cross-site requests; bearer tokens do not.
        check_csrf(request, form_token)
    return user


async def optional_user(
    request: Request,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """Return the caller from a bearer token or the session cookie, or None."""
    return await _caller(request, db, credentials)


OptionalUser = Annotated[User | None, Depends(optional_user)]


async def session_user(request: Request) -> User | None:
    """Return the browser's logged-in user outside a route (error pages), or None."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    async with session_maker_of(request.app.state)() as db:
        return await auth_service.user_for_token(db, raw=raw)


async def form_user(
    request: Request,
    db: DbDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    csrf_token: Annotated[str, Form()] = "",
) -> User | None:
    """Return the caller of a plain HTML form post, the CSRF token coming in the form."""
    if credentials is None:  # anonymous posts too: a form post is a write from a page
        check_csrf(request, csrf_token)
    return await _caller(request, db, credentials, csrf_token)


# For server-rendered forms: every post carries `csrf_token`, logged in or not.
FormUser = Annotated[User | None, Depends(form_user)]


async def current_user(user: OptionalUser) -> User:
    """Return the caller, or answer 401."""
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in first (session cookie or Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    """Return the caller if an admin, or answer 403."""
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs an admin account")
    return user


AdminUser = Annotated[User, Depends(admin_user)]
