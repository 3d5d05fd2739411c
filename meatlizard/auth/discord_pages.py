"""Pages of "Log in with Discord": start, callback, link and unlink, and setting a password."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from meatlizard.api.deps import (
    CacheDep,
    DbDep,
    FormUser,
    OptionalUser,
    SettingsDep,
    request_token,
)
from meatlizard.api.errors import status_for
from meatlizard.auth import discord_login, discord_oauth, service
from meatlizard.auth.models import TokenKind, User
from meatlizard.auth.pages import safe_next
from meatlizard.auth.routes import set_session_cookie
from meatlizard.core.cache import Cache
from meatlizard.core.errors import ServiceError
from meatlizard.core.security import secure_cookie
from meatlizard.core.settings import Settings
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

STATE_COOKIE = "ml_discord_state"
CALLBACK_PATH = "/auth/discord/callback"
NOT_CONFIGURED = "Log in with Discord is not set up on this server."


def problem(
    request: Request, title: str, message: str, status_code: int, user: User | None = None
) -> Response:
    """Render the themed page that explains why a Discord login did not work."""
    response = render(
        request,
        "discord_problem.html",
        user=user,
        title=title,
        message=message,
        status_code=status_code,
    )
    response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
    return response


async def _to_discord(
    settings: Settings, cache: Cache, state: discord_login.LoginState, request: Request
) -> Response:
    value = await discord_login.begin(cache, state)
    url = discord_oauth.authorize_url(settings, state=value, verifier=state.verifier)
    response = RedirectResponse(url, status_code=303)
    # Lax, not strict: the browser must send it back on Discord's redirect to the callback.
    response.set_cookie(
        STATE_COOKIE,
        value,
        max_age=discord_login.STATE_SECONDS,
        path=CALLBACK_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookie(settings.cookie_secure, request.url.scheme),
    )
    return response


@router.get("/auth/discord/login")
async def discord_login_start(
    request: Request,
    settings: SettingsDep,
    cache: CacheDep,
    user: OptionalUser,
    next: str | None = None,
) -> Response:
    if not settings.discord_oauth_enabled:
        return problem(request, "Discord login is off", NOT_CONFIGURED, 404)
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    state = discord_login.new_state("login", next=safe_next(next))
    return await _to_discord(settings, cache, state, request)


@router.post("/account/discord/link")
async def discord_link_start(
    request: Request, settings: SettingsDep, cache: CacheDep, user: FormUser
) -> Response:
    if not settings.discord_oauth_enabled:
        return problem(request, "Discord login is off", NOT_CONFIGURED, 404)
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    state = discord_login.new_state("link", next="/account", user_id=user.id)
    return await _to_discord(settings, cache, state, request)


@router.get(CALLBACK_PATH)
async def discord_callback(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    cache: CacheDep,
    user: OptionalUser,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    if not settings.discord_oauth_enabled:
        return problem(request, "Discord login is off", NOT_CONFIGURED, 404)
    try:
        attempt = await discord_login.finish(
            cache, state=state, browser_state=request.cookies.get(STATE_COOKIE)
        )
    except ServiceError as exc:
        return problem(request, "Login link not valid", str(exc), 400)
    if error or not code:
        message = (
            "You did not allow MeatLizard to see your Discord account, so nothing changed."
            if error == "access_denied"
            else f"Discord did not complete the login ({error or 'no code'})."
        )
        return problem(request, "Discord login cancelled", message, 400)
    try:
        identity = await discord_oauth.identify(settings, code=code, verifier=attempt.verifier)
        if attempt.mode == "link":
            if user is None or user.id != attempt.user_id:
                return problem(
                    request, "Log in again", "Log in to the account to link, then retry.", 403
                )
            await discord_login.link(db, user_id=user.id, identity=identity)
            return _done(RedirectResponse("/account?discord=linked", status_code=303))
        account, _ = await discord_login.log_in(db, identity)
    except ServiceError as exc:
        return problem(request, "Discord login failed", str(exc), status_for(exc), user)
    raw, _ = await service.issue_token(
        db,
        user=account,
        kind=TokenKind.SESSION,
        lifetime=timedelta(days=settings.session_days),
    )
    response = _done(RedirectResponse(safe_next(attempt.next), status_code=303))
    set_session_cookie(response, settings, raw, request)
    return response


def _done(response: Response) -> Response:
    response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
    return response


@router.post("/account/discord/unlink")
async def discord_unlink(request: Request, db: DbDep, user: FormUser) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    try:
        await discord_login.unlink(db, user=user)
    except ServiceError as exc:
        return problem(request, "Discord not unlinked", str(exc), status_for(exc), user)
    return RedirectResponse("/account?discord=unlinked", status_code=303)


@router.post("/account/password")
async def account_password(
    request: Request,
    db: DbDep,
    user: FormUser,
    password: Annotated[str, Form(max_length=1024)],
    current_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    try:
        await service.set_password(
            db, user=user, current=current_password, new=password, keep=request_token(request)
        )
    except ServiceError as exc:
        return problem(request, "Password not changed", str(exc), status_for(exc), user)
    return RedirectResponse("/account?password=set", status_code=303)
