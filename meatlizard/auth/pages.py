"""Login, registration and account pages (plain forms: they work without JavaScript)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meatlizard.api.deps import (
    SESSION_COOKIE,
    CacheDep,
    DbDep,
    OptionalUser,
    SettingsDep,
    check_csrf,
)
from meatlizard.auth import registration, service
from meatlizard.auth.deps import LoginLimitersDep
from meatlizard.auth.routes import client_address, set_session_cookie
from meatlizard.core.errors import ServiceError, TooManyRequests
from meatlizard.files import quotas
from meatlizard.files.deps import FilePolicyDep
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Return a local path to go to after logging in (never another site)."""
    if not target:
        return "/chat"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/chat"
    return target


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", user=None, next=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login_form(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    limiters: LoginLimitersDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/chat",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        raw, _ = await service.login(
            db,
            username=username,
            password=password,
            client=client_address(request),
            limiter=limiters.by_name,
            address_limiter=limiters.by_address,
            session_days=settings.session_days,
        )
    except ServiceError as exc:
        code = 429 if isinstance(exc, TooManyRequests) else 401
        return render(
            request,
            "login.html",
            user=None,
            error=str(exc),
            username=username,
            next=safe_next(next),
            status_code=code,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, settings, raw, request)
    return response


@router.get("/register", response_class=HTMLResponse)
async def register_page(request: Request, user: OptionalUser, settings: SettingsDep) -> Response:
    if user is not None:
        return RedirectResponse("/chat", status_code=303)
    mode = settings.registration
    return render(request, "register.html", user=None, mode=mode)


@router.post("/register", response_class=HTMLResponse)
async def register_form(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    cache: CacheDep,
    limiters: LoginLimitersDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    password_again: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form()] = "",
    invite: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        if password != password_again:
            raise ServiceError("the two passwords differ")
        code = registration.invite_needed(settings, invite.strip() or None)
        await registration.check_rate(cache, settings, client_address(request))
        await service.register(db, username=username, password=password, invite=code)
        raw, _ = await service.login(
            db,
            username=username,
            password=password,
            client=client_address(request),
            limiter=limiters.by_name,
            address_limiter=limiters.by_address,
            session_days=settings.session_days,
        )
    except ServiceError as exc:
        return render(
            request,
            "register.html",
            user=None,
            error=str(exc),
            username=username,
            mode=settings.registration,
            status_code=400,
        )
    response = RedirectResponse("/chat", status_code=303)
    set_session_cookie(response, settings, raw, request)
    return response


@router.post("/logout")
async def logout_form(
    request: Request, db: DbDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(request, csrf_token)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        await service.revoke_token(db, raw=raw)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account", response_class=HTMLResponse)
async def account_page(
    request: Request, user: OptionalUser, db: DbDep, policy: FilePolicyDep
) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    tokens = await service.list_api_tokens(db, user=user)
    usage = await quotas.usage(db, user.id, policy)
    return render(
        request,
        "account.html",
        user=user,
        tokens=tokens,
        usage=usage,
        has_password=service.has_password(user),
    )
