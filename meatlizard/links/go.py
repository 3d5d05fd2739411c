"""Following short links: redirect, password form, preview and QR code under /s/."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.api.deps import CacheDep, SessionMakerDep, SettingsDep, check_csrf
from meatlizard.api.middleware import LOG_LEVEL_KEY
from meatlizard.core.cache import Cache
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.core.security import verify_password
from meatlizard.core.settings import Rate
from meatlizard.links.deps import LinksDep
from meatlizard.links.models import Link
from meatlizard.links.redirects import REDIRECT_LOG_LEVEL, CachedLink, LinkResolver
from meatlizard.links.urls import public_base
from meatlizard.web.qr import qr_svg
from meatlizard.web.render import render

router = APIRouter(include_in_schema=False)
PASSWORD_HEADER = "X-Link-Password"
PASSWORD_RATE = Rate(count=10, window_seconds=60)  # guesses per address and link
EXHAUSTED = "This link has reached its click limit."
QR_SCALE = 6


def _missing(request: Request) -> Response:
    return render(
        request, "not_found.html", user=None, status_code=404, message="No link has this address."
    )


def _gone(request: Request, reason: str) -> Response:
    return render(
        request, "link_gone.html", user=None, section="links", status_code=410, reason=reason
    )


def _password_form(request: Request, link: CachedLink, *, wrong: bool = False) -> Response:
    return render(
        request,
        "link_password.html",
        user=None,
        section="links",
        link=link,
        wrong=wrong,
        status_code=403 if wrong else 200,
    )


async def _redirect(
    resolver: LinkResolver, request: Request, link: CachedLink, status_code: int
) -> Response:
    """Count the click (buffered) and send the visitor on."""
    if not await resolver.claim(link):
        return _gone(request, EXHAUSTED)
    headers = request.headers
    resolver.clicks.record(
        link.id,
        user_agent=headers.get("user-agent", ""),
        referer=headers.get("referer"),
        client=request.client.host if request.client else None,
    )
    request.scope[LOG_LEVEL_KEY] = REDIRECT_LOG_LEVEL
    return Response(
        status_code=status_code,
        headers={"Location": link.url, "Cache-Control": link.cache_control(status_code)},
    )


async def _password_ok(
    cache: Cache,
    sessions: async_sessionmaker[AsyncSession],
    request: Request,
    link: CachedLink,
    sent: str,
) -> bool:
    """Check a password guess, at most PASSWORD_RATE per address and link."""
    who = f"{request.client.host if request.client else '-'}:{link.id}"
    limiter = RateLimiter(cache, "link-password", PASSWORD_RATE)
    if not (await limiter.hit(who)).allowed:
        return False
    async with sessions() as db:
        stored = await db.get(Link, link.id)
    return stored is not None and await verify_password(stored.password_hash, sent)


@router.get("/s/{slug}+", response_class=HTMLResponse)
async def preview(slug: str, request: Request, resolver: LinksDep) -> Response:
    """Show where a link goes before going there."""
    link = await resolver.lookup(slug)
    if link is None:
        return _missing(request)
    reason = link.gone_reason(time.time())
    if reason:
        return _gone(request, reason)
    return render(request, "link_preview.html", user=None, section="links", link=link)


@router.get("/s/{slug}/qr.svg")
async def qr_code(
    slug: str, request: Request, resolver: LinksDep, settings: SettingsDep
) -> Response:
    """Return the short URL as a QR code (SVG)."""
    link = await resolver.lookup(slug)
    if link is None:
        return _missing(request)
    url = f"{public_base(settings, request)}/s/{slug}"
    svg = qr_svg(url, scale=QR_SCALE, border=2, dark="#000", light="#fff", xmldecl=False)
    return Response(svg, media_type="image/svg+xml")


@router.get("/s/{slug}")
async def follow(
    slug: str,
    request: Request,
    resolver: LinksDep,
    settings: SettingsDep,
    cache: CacheDep,
    sessions: SessionMakerDep,
    x_link_password: Annotated[str | None, Header()] = None,
) -> Response:
    """Redirect to the target: one cache lookup, a buffered click, no database write."""
    link = await resolver.lookup(slug)
    if link is None:
        return _missing(request)
    reason = link.gone_reason(time.time())
    if reason:
        return _gone(request, reason)
    if link.protected:
        if x_link_password is None:
            return _password_form(request, link)
        if not await _password_ok(cache, sessions, request, link, x_link_password):
            return _password_form(request, link, wrong=True)
    return await _redirect(resolver, request, link, settings.link_redirect_status)


@router.post("/s/{slug}")
async def unlock(
    slug: str,
    request: Request,
    resolver: LinksDep,
    cache: CacheDep,
    sessions: SessionMakerDep,
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Check the password of a protected link, then redirect (303, so the browser GETs)."""
    check_csrf(request, csrf_token)
    link = await resolver.lookup(slug)
    if link is None:
        return _missing(request)
    reason = link.gone_reason(time.time())
    if reason:
        return _gone(request, reason)
    if link.protected and not await _password_ok(cache, sessions, request, link, password):
        return _password_form(request, link, wrong=True)
    return await _redirect(resolver, request, link, 303)
