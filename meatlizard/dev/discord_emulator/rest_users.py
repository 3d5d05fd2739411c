"""REST: the current user and application, gateway discovery, guilds, DMs and attachments."""

from __future__ import annotations

import asyncio

from aiohttp import web

from meatlizard.dev.discord_emulator import errors
from meatlizard.dev.discord_emulator.core import bot_app, core, json
from meatlizard.dev.discord_emulator.models import DM, Channel, snowflake

routes = web.RouteTableDef()
API = "/api/v10"


@routes.get(f"{API}/users/@me")
async def get_me(request: web.Request) -> web.Response:
    """Return the bot user, or the OAuth2 user of a Bearer token."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        grant = core(request).access_tokens.get(header.removeprefix("Bearer "))
        if grant is None:
            raise errors.unauthorized()
        data = grant.user.payload()
        data.update(locale="en-US", mfa_enabled=False, verified=True, premium_type=0)
        if "email" in grant.scopes:
            data["email"] = grant.user.email
        return json(data)
    app = bot_app(request)
    return json({**app.bot.payload(), "verified": True, "mfa_enabled": False, "locale": "en-US"})


@routes.get(f"{API}/users/{{user_id}}")
async def get_user(request: web.Request) -> web.Response:
    """Return a user."""
    bot_app(request)
    return json(core(request).state.user(request.match_info["user_id"]).payload())


@routes.get(f"{API}/gateway")
async def get_gateway(request: web.Request) -> web.Response:
    """Return the gateway URL."""
    return json({"url": core(request).state.gateway_url})


@routes.get(f"{API}/gateway/bot")
async def get_gateway_bot(request: web.Request) -> web.Response:
    """Return the gateway URL, recommended shards and session start limits."""
    bot_app(request)
    limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
    return json({"url": core(request).state.gateway_url, "shards": 1, "session_start_limit": limit})


@routes.get(f"{API}/oauth2/applications/@me")
@routes.get(f"{API}/applications/@me")
async def get_application(request: web.Request) -> web.Response:
    """Return the bot's application."""
    return json(bot_app(request).payload())


@routes.get(f"{API}/users/@me/guilds")
async def my_guilds(request: web.Request) -> web.Response:
    """Return partial guilds of the bot (or OAuth2 user with the guilds scope)."""
    header = request.headers.get("Authorization", "")
    ctx = core(request)
    if header.startswith("Bearer "):
        grant = ctx.access_tokens.get(header.removeprefix("Bearer "))
        if grant is None or "guilds" not in grant.scopes:
            raise errors.unauthorized()
        user_id = grant.user.id
    else:
        user_id = bot_app(request).bot.id
    return json(
        [
            {
                "id": str(g.id),
                "name": g.name,
                "icon": None,
                "owner": g.owner_id == user_id,
                "permissions": str(g.base_permissions(user_id)),
                "features": [],
            }
            for g in ctx.state.guilds_of(user_id)
        ]
    )


@routes.get(f"{API}/guilds/{{guild_id}}")
async def get_guild(request: web.Request) -> web.Response:
    """Return a guild the bot is in."""
    app = bot_app(request)
    guild = core(request).state.guild(request.match_info["guild_id"])
    if app.bot.id not in guild.members:
        raise errors.missing_access()
    return json(guild.payload())


@routes.get(f"{API}/guilds/{{guild_id}}/members/{{user_id}}")
async def get_member(request: web.Request) -> web.Response:
    """Return a guild member."""
    app = bot_app(request)
    guild = core(request).state.guild(request.match_info["guild_id"])
    if app.bot.id not in guild.members:
        raise errors.missing_access()
    member = guild.members.get(int(request.match_info["user_id"]))
    if member is None:
        raise errors.not_found(10007, "Member")
    return json(member.payload())


@routes.get(f"{API}/guilds/{{guild_id}}/roles")
async def get_roles(request: web.Request) -> web.Response:
    """Return a guild's roles."""
    app = bot_app(request)
    guild = core(request).state.guild(request.match_info["guild_id"])
    if app.bot.id not in guild.members:
        raise errors.missing_access()
    return json([role.payload() for role in guild.roles.values()])


@routes.post(f"{API}/users/@me/channels")
async def open_dm(request: web.Request) -> web.Response:
    """Open (or return the existing) DM channel with a user."""
    app = bot_app(request)
    state = core(request).state
    body = await request.json()
    recipient = state.user(body.get("recipient_id", ""))
    for channel in state.channels.values():
        ids = {u.id for u in channel.recipients}
        if channel.type == DM and ids == {app.bot.id, recipient.id}:
            return json(channel.payload(viewer_id=app.bot.id))
    channel = Channel(id=snowflake(), type=DM, recipients=[recipient, app.bot])
    state.channels[channel.id] = channel
    return json(channel.payload(viewer_id=app.bot.id))


@routes.get("/attachments/{channel_id}/{attachment_id}/{filename}")
async def get_attachment(request: web.Request) -> web.Response:
    """Serve an uploaded attachment, like Discord's CDN (with its latency)."""
    state = core(request).state
    attachment = state.attachments.get(int(request.match_info["attachment_id"]))
    if attachment is None or attachment.filename != request.match_info["filename"]:
        raise web.HTTPNotFound()
    low, high = state.cdn_latency_s
    if high > 0:
        await asyncio.sleep(state.cdn_random.uniform(low, high))
    return web.Response(body=attachment.data, content_type=attachment.content_type)
