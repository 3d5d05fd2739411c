"""Links API: create (JSON or form), list, read, edit, delete, statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from pydantic import ValidationError

from meatlizard.api.deps import CacheDep, CurrentUser, DbDep, OptionalUser, SettingsDep
from meatlizard.api.errors import field_problems
from meatlizard.auth.models import User
from meatlizard.core.cache import Cache
from meatlizard.core.errors import TooManyRequests
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.core.settings import Rate, Settings
from meatlizard.links import service
from meatlizard.links.deps import LinksDep
from meatlizard.links.models import Link
from meatlizard.links.policy import LinkPolicy
from meatlizard.links.redirects import LinkResolver
from meatlizard.links.schemas import LinkCreate, LinkRead, LinkStats, LinkUpdate
from meatlizard.links.stats import link_stats
from meatlizard.links.urls import link_read, public_base

router = APIRouter(prefix="/links", tags=["links"])
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_BODY_BYTES = 64 * 1024
MAX_STATS_DAYS = 366


def _top_level_names(request: Request) -> frozenset[str]:
    """Return the first path segment of every route the site serves."""
    names = set()
    for route in request.app.routes:
        first = str(getattr(route, "path", "")).strip("/").split("/")[0]
        if first and "{" not in first:
            names.add(first.lower())
    return frozenset(names)


def policy(settings: Settings, request: Request) -> LinkPolicy:
    """Return the operator's link policy; this site's own hosts are never a target."""
    own = {request.url.hostname or ""}
    server = request.scope.get("server")
    if server:  # the address this request reached: the same machine under another name
        own.add(str(server[0]))
    return LinkPolicy.from_settings(settings, own_hosts=own, reserved=_top_level_names(request))


async def check_rate(cache: Cache, settings: Settings, request: Request, user: User | None) -> None:
    """Refuse creators who shorten faster than the configured rate."""
    limiter = RateLimiter(cache, "link", Rate.parse(settings.link_rate_limit), fail_open=True)
    who = f"user:{user.id}" if user else f"ip:{request.client.host if request.client else '-'}"
    decision = await limiter.hit(who)
    if not decision.allowed:
        raise TooManyRequests("too many links; slow down", decision.retry_after_seconds)


def _invalid(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(field_problems(exc.errors(), "body"))


async def _body(request: Request) -> LinkCreate:
    """Parse JSON, or a form such as `curl -d url=https://...` (tags comma-separated)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind in FORM_TYPES:
            form = await request.form()
            fields: dict[str, object] = {
                k: v.strip() for k, v in form.items() if isinstance(v, str) and v.strip()
            }
            if isinstance(fields.get("tags"), str):
                fields["tags"] = str(fields["tags"]).split(",")
            if "enabled" in fields:
                fields["enabled"] = fields["enabled"] in ("1", "true", "on", "yes")
            return LinkCreate.model_validate(fields)
        return LinkCreate.model_validate_json(await request.body())
    except ValidationError as exc:
        raise _invalid(exc) from None


def _wants_text(request: Request) -> bool:
    """Plain text for `Accept: text/plain`, and for curl unless it sent JSON."""
    accept = request.headers.get("accept", "")
    if accept.startswith("text/plain"):
        return True
    sent_json = request.headers.get("content-type", "").startswith("application/json")
    return request.headers.get("user-agent", "").startswith("curl/") and not sent_json


@router.post("", status_code=status.HTTP_201_CREATED, response_model=LinkRead)
async def create_link(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    settings: SettingsDep,
    cache: CacheDep,
    resolver: LinksDep,
) -> Response:
    """Shorten a URL; curl (without JSON) and `Accept: text/plain` get the short URL as text."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "request body too large")
    rules = policy(settings, request)
    await check_rate(cache, settings, request, user)
    data = await _body(request)
    link, delete_token = await service.create_link(db, owner=user, data=data, policy=rules)
    await resolver.forget(link.slug)  # a stale "no such slug" entry may be cached
    read = link_read(public_base(settings, request), link, owner=user.username if user else None)
    read.delete_token = delete_token
    if _wants_text(request):
        return PlainTextResponse(read.short_url + "\n", status_code=status.HTTP_201_CREATED)
    return Response(read.model_dump_json(), status_code=201, media_type="application/json")


@router.get("", response_model=list[LinkRead])
async def list_links(
    request: Request,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    resolver: LinksDep,
    all: bool = False,
    tag: str | None = None,
) -> list[LinkRead]:
    """List your links, newest first (admins: `?all=true` for everyone's; `?tag=` filters)."""
    links = await service.list_links(db, owner=user, everyone=all, tag=tag)
    base = public_base(settings, request)
    return [_with_pending(resolver, link_read(base, link), link) for link in links]


def _with_pending(resolver: LinkResolver, read: LinkRead, link: Link) -> LinkRead:
    """Add the clicks this process has counted but not yet written."""
    people, bots = resolver.clicks.pending(link.id)
    read.clicks += people
    read.bot_clicks += bots
    return read


@router.get("/{slug}", response_model=LinkRead)
async def get_link(
    slug: str,
    request: Request,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    resolver: LinksDep,
) -> LinkRead:
    """Return one of your links."""
    link = await service.owned_link(db, slug=slug, user=user)
    return _with_pending(resolver, link_read(public_base(settings, request), link), link)


@router.patch("/{slug}", response_model=LinkRead)
async def update_link(
    slug: str,
    data: LinkUpdate,
    request: Request,
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    resolver: LinksDep,
) -> LinkRead:
    """Edit a link: target, title, tags, expiry, max clicks, password, enabled."""
    link = await service.update_link(
        db, slug=slug, user=user, data=data, policy=policy(settings, request)
    )
    cap_changed = "max_clicks" in data.model_fields_set
    await resolver.forget(slug, link_id=link.id if cap_changed else None)
    return _with_pending(resolver, link_read(public_base(settings, request), link), link)


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_link(
    slug: str,
    user: OptionalUser,
    db: DbDep,
    resolver: LinksDep,
    token: str | None = None,
    x_delete_token: Annotated[str | None, Header()] = None,
) -> None:
    """Delete a link as its owner, an admin, or with its delete token (header or ?token=)."""
    link = await service.delete_link(db, slug=slug, user=user, token=x_delete_token or token)
    await resolver.forget(slug, link_id=link.id)


@router.get("/{slug}/stats", response_model=LinkStats)
async def get_stats(
    slug: str, user: CurrentUser, db: DbDep, resolver: LinksDep, days: int = 30
) -> LinkStats:
    """Clicks per day, referrers, browsers, OS, bots and countries of one of your links."""
    if not 1 <= days <= MAX_STATS_DAYS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "days must be 1-366")
    link = await service.owned_link(db, slug=slug, user=user)
    return await link_stats(
        db,
        link,
        days=days,
        pending=resolver.clicks.pending(link.id),
        countries=resolver.clicks.countries is not None,
    )
