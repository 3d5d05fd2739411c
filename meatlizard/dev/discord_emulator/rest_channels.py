"""REST: guild channels, channel edits and permission overwrites, with permissions enforced."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from meatlizard.dev.discord_emulator import errors
from meatlizard.dev.discord_emulator.core import bot_app, core, json
from meatlizard.dev.discord_emulator.guild import Guild
from meatlizard.dev.discord_emulator.messaging import read_body
from meatlizard.dev.discord_emulator.models import (
    DM,
    GUILD_CATEGORY,
    GUILD_TEXT,
    Channel,
    Overwrite,
    snowflake,
)
from meatlizard.dev.discord_emulator.permissions import (
    ALL,
    MEMBER_OVERWRITE,
    ROLE_OVERWRITE,
    Permission,
)

routes = web.RouteTableDef()
API = "/api/v10"
SUPPORTED_TYPES = (GUILD_TEXT, GUILD_CATEGORY)
# resources/guild#create-guild-channel: 500 channels (categories included) per guild, 50 per
# category; past them Discord answers 30013 and a parent_id form error.
MAX_GUILD_CHANNELS, MAX_CATEGORY_CHANNELS = 500, 50
MAX_GUILD_CHANNELS_REACHED = 30013


def _check_room(guild: Guild, parent: Channel | None, *, new: bool) -> None:
    """Refuse a channel past the guild's 500 or its category's 50, as Discord does."""
    if new and len(guild.channels) >= MAX_GUILD_CHANNELS:
        raise errors.ApiError(
            400, MAX_GUILD_CHANNELS_REACHED, "Maximum number of guild channels reached (500)"
        )
    if parent is not None:
        children = sum(c.parent_id == parent.id for c in guild.channels.values())
        if children >= MAX_CATEGORY_CHANNELS:
            raise errors.invalid_form(
                "parent_id",
                "CHANNEL_PARENT_MAX_CHANNELS",
                "Maximum number of channels in category reached (50)",
            )


def _overwrites(guild: Guild, items: Any, granter: int) -> dict[int, Overwrite]:
    """Parse permission_overwrites; a bot may only grant or deny permissions it holds."""
    if not isinstance(items, list):
        raise errors.invalid_form("permission_overwrites", "LIST_TYPE_CONVERT", "Must be a list.")
    held = guild.base_permissions(granter)
    result: dict[int, Overwrite] = {}
    for index, item in enumerate(items):
        try:
            overwrite = Overwrite(
                int(item["id"]),
                int(item.get("type", ROLE_OVERWRITE)),
                int(item.get("allow") or 0),
                int(item.get("deny") or 0),
            )
        except (KeyError, TypeError, ValueError):
            raise errors.invalid_form(
                f"permission_overwrites.{index}", "BASE_TYPE_REQUIRED", "Invalid overwrite."
            ) from None
        if overwrite.type not in (ROLE_OVERWRITE, MEMBER_OVERWRITE):
            raise errors.invalid_form(
                f"permission_overwrites.{index}.type", "BASE_TYPE_CHOICES", "Invalid type."
            )
        if held != ALL and (overwrite.allow | overwrite.deny) & ~held:
            raise errors.missing_permissions()
        result[overwrite.id] = overwrite
    return result


def _name(value: Any, kind: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
        raise errors.invalid_form(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    return value.strip().lower().replace(" ", "-") if kind == GUILD_TEXT else value.strip()


@routes.get(f"{API}/guilds/{{guild_id}}/channels")
async def list_channels(request: web.Request) -> web.Response:
    """List a guild's channels."""
    app = bot_app(request)
    guild = core(request).state.guild(request.match_info["guild_id"])
    if app.bot.id not in guild.members:
        raise errors.missing_access()
    return json([channel.payload() for channel in guild.channels.values()])


@routes.post(f"{API}/guilds/{{guild_id}}/channels")
async def create_channel(request: web.Request) -> web.Response:
    """Create a text channel or category (MANAGE_CHANNELS; overwrites need MANAGE_ROLES)."""
    app = bot_app(request)
    ctx = core(request)
    guild = ctx.state.guild(request.match_info["guild_id"])
    ctx.state.require_guild(app.bot.id, guild, Permission.MANAGE_CHANNELS)
    body, _ = await read_body(request)
    kind = int(body.get("type") or GUILD_TEXT)
    if kind not in SUPPORTED_TYPES:
        raise errors.invalid_form("type", "BASE_TYPE_CHOICES", "Channel type not supported here.")
    parent = None
    if body.get("parent_id"):
        parent = ctx.state.channel(body["parent_id"])
        if parent.guild_id != guild.id or parent.type != GUILD_CATEGORY:
            raise errors.invalid_form("parent_id", "CHANNEL_PARENT_INVALID", "Not a category.")
    _check_room(guild, parent, new=True)
    channel = Channel(
        id=snowflake(),
        type=kind,
        name=_name(body.get("name"), kind),
        guild_id=guild.id,
        position=int(body.get("position") or len(guild.channels)),
        topic=body.get("topic"),
        parent_id=parent.id if parent else None,
        nsfw=bool(body.get("nsfw")),
    )
    if body.get("permission_overwrites") is not None:
        ctx.state.require_guild(app.bot.id, guild, Permission.MANAGE_ROLES)
        channel.overwrites = _overwrites(guild, body["permission_overwrites"], app.bot.id)
    elif parent is not None:  # a new channel in a category starts synced with it
        channel.overwrites = {
            k: Overwrite(o.id, o.type, o.allow, o.deny) for k, o in parent.overwrites.items()
        }
    guild.channels[channel.id] = channel
    ctx.state.channels[channel.id] = channel
    ctx.events.channel_event("CHANNEL_CREATE", channel)
    return json(channel.payload(), 201)


def _visible_channel(request: web.Request) -> tuple[Channel, int]:
    app = bot_app(request)
    state = core(request).state
    channel = state.channel(request.match_info["channel_id"])
    if not state.can_view(app.bot.id, channel):
        raise errors.missing_access()
    return channel, app.bot.id


@routes.get(f"{API}/channels/{{channel_id}}")
async def get_channel(request: web.Request) -> web.Response:
    """Return a channel the bot can see."""
    channel, bot_id = _visible_channel(request)
    return json(channel.payload(viewer_id=bot_id))


@routes.patch(f"{API}/channels/{{channel_id}}")
async def edit_channel(request: web.Request) -> web.Response:
    """Edit a guild channel's name, topic, position, nsfw, parent or overwrites."""
    channel, bot_id = _visible_channel(request)
    ctx = core(request)
    guild = ctx.state.guild_of(channel)
    if guild is None:
        raise errors.ApiError(400, 50003, "Cannot execute action on a DM channel")
    ctx.state.require(bot_id, channel, Permission.MANAGE_CHANNELS)
    body, _ = await read_body(request)
    name = _name(body["name"], channel.type) if "name" in body else channel.name
    if name != channel.name and (refused := ctx.limiter.rename(channel.id)) is not None:
        return refused  # before any change: a refused request changes nothing
    if "permission_overwrites" in body:
        ctx.state.require(bot_id, channel, Permission.MANAGE_ROLES)
        channel.overwrites = _overwrites(guild, body["permission_overwrites"] or [], bot_id)
    channel.name = name
    for key in ("topic", "nsfw", "position"):
        if key in body:
            setattr(channel, key, body[key])
    if "parent_id" in body:
        parent = ctx.state.channel(body["parent_id"]) if body["parent_id"] else None
        if parent is not None and parent.id != channel.parent_id:
            _check_room(guild, parent, new=False)
        channel.parent_id = parent.id if parent else None
    ctx.events.channel_event("CHANNEL_UPDATE", channel)
    return json(channel.payload())


@routes.delete(f"{API}/channels/{{channel_id}}")
async def delete_channel(request: web.Request) -> web.Response:
    """Delete a guild channel (MANAGE_CHANNELS) or close a DM."""
    channel, bot_id = _visible_channel(request)
    ctx = core(request)
    guild = ctx.state.guild_of(channel)
    if channel.type == DM or guild is None:
        return json(channel.payload(viewer_id=bot_id))
    ctx.state.require(bot_id, channel, Permission.MANAGE_CHANNELS)
    del guild.channels[channel.id]
    del ctx.state.channels[channel.id]
    ctx.events.channel_event("CHANNEL_DELETE", channel)
    return json(channel.payload())


@routes.put(f"{API}/channels/{{channel_id}}/permissions/{{overwrite_id}}")
async def put_overwrite(request: web.Request) -> web.Response:
    """Create or replace one overwrite (MANAGE_ROLES in the channel)."""
    channel, bot_id = _visible_channel(request)
    ctx = core(request)
    guild = ctx.state.guild_of(channel)
    if guild is None:
        raise errors.ApiError(400, 50003, "Cannot execute action on a DM channel")
    ctx.state.require(bot_id, channel, Permission.MANAGE_ROLES)
    body, _ = await read_body(request)
    item = {**body, "id": request.match_info["overwrite_id"]}
    channel.overwrites.update(_overwrites(guild, [item], bot_id))
    ctx.events.channel_event("CHANNEL_UPDATE", channel)
    return web.Response(status=204)


@routes.delete(f"{API}/channels/{{channel_id}}/permissions/{{overwrite_id}}")
async def delete_overwrite(request: web.Request) -> web.Response:
    """Remove one overwrite (MANAGE_ROLES in the channel)."""
    channel, bot_id = _visible_channel(request)
    ctx = core(request)
    ctx.state.require(bot_id, channel, Permission.MANAGE_ROLES)
    channel.overwrites.pop(int(request.match_info["overwrite_id"]), None)
    ctx.events.channel_event("CHANNEL_UPDATE", channel)
    return web.Response(status=204)
