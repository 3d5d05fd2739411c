"""REST: sending, reading, editing and deleting channel messages, with permissions enforced."""

from __future__ import annotations

from aiohttp import web

from meatlizard.dev.discord_emulator import errors
from meatlizard.dev.discord_emulator.core import bot_app, core, json
from meatlizard.dev.discord_emulator.message import EPHEMERAL, Message
from meatlizard.dev.discord_emulator.messaging import read_body
from meatlizard.dev.discord_emulator.models import DM, Channel
from meatlizard.dev.discord_emulator.permissions import Permission

routes = web.RouteTableDef()
API = "/api/v10"
MESSAGES = f"{API}/channels/{{channel_id}}/messages"
READ = Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY


def _check_dm(request: web.Request, channel: Channel, bot_id: int) -> None:
    """Refuse a DM to a user who shares no guild with the bot or has closed DMs (50007)."""
    state = core(request).state
    for user in channel.recipients:
        if user.id == bot_id:
            continue
        shares_guild = any(bot_id in g.members for g in state.guilds_of(user.id))
        if not shares_guild or not user.dms_open:
            raise errors.ApiError(403, errors.CANNOT_DM_USER, "Cannot send messages to this user")


@routes.post(MESSAGES)
async def create_message(request: web.Request) -> web.Response:
    """Send a message (JSON or multipart with files[n]); needs VIEW_CHANNEL and SEND_MESSAGES."""
    app = bot_app(request)
    ctx = core(request)
    channel = ctx.state.channel(request.match_info["channel_id"])
    ctx.state.require(app.bot.id, channel, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
    payload, files = await read_body(request)
    if files:
        ctx.state.require(app.bot.id, channel, Permission.ATTACH_FILES)
    if channel.type == DM:
        _check_dm(request, channel, app.bot.id)
    payload["flags"] = int(payload.get("flags") or 0) & ~EPHEMERAL  # only interactions may
    message = ctx.messaging.create(channel, app.bot, payload, files)
    return json(_with_member(request, message))


def _with_member(request: web.Request, message: Message) -> dict:
    guild = core(request).state.guilds.get(message.guild_id or 0)
    member = guild.members.get(message.author.id) if guild else None
    return message.payload(member)


@routes.get(MESSAGES)
async def list_messages(request: web.Request) -> web.Response:
    """Return up to `limit` (1-100) messages, newest first, before/after/around an id."""
    app = bot_app(request)
    ctx = core(request)
    channel = ctx.state.channel(request.match_info["channel_id"])
    ctx.state.require(app.bot.id, channel, READ)
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise errors.invalid_form("limit", "NUMBER_TYPE_MAX", "Must be between 1 and 100.")
    messages = [m for m in ctx.state.channel_messages(channel.id) if not m.ephemeral]
    query = request.query
    if "before" in query:
        messages = [m for m in messages if m.id < int(query["before"])][-limit:]
    elif "after" in query:
        messages = [m for m in messages if m.id > int(query["after"])][:limit]
    elif "around" in query:
        pivot = int(query["around"])
        older = [m for m in messages if m.id <= pivot][-((limit + 1) // 2) :]
        newer = [m for m in messages if m.id > pivot][: limit - len(older)]
        messages = older + newer
    else:
        messages = messages[-limit:]
    return json([_with_member(request, m) for m in reversed(messages)])


@routes.get(f"{MESSAGES}/{{message_id}}")
async def get_message(request: web.Request) -> web.Response:
    """Return one message (VIEW_CHANNEL and READ_MESSAGE_HISTORY)."""
    app = bot_app(request)
    ctx = core(request)
    channel = ctx.state.channel(request.match_info["channel_id"])
    ctx.state.require(app.bot.id, channel, READ)
    message = ctx.state.message(channel, request.match_info["message_id"])
    if message.ephemeral:
        raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
    return json(_with_member(request, message))


@routes.patch(f"{MESSAGES}/{{message_id}}")
async def edit_message(request: web.Request) -> web.Response:
    """Edit the bot's own message (content, embeds, components, attachments)."""
    app = bot_app(request)
    ctx = core(request)
    channel = ctx.state.channel(request.match_info["channel_id"])
    ctx.state.require(app.bot.id, channel, Permission.VIEW_CHANNEL)
    message = ctx.state.message(channel, request.match_info["message_id"])
    if message.author.id != app.bot.id or message.webhook_id is not None:
        raise errors.ApiError(
            403, errors.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user"
        )
    payload, files = await read_body(request)
    return json(_with_member(request, ctx.messaging.edit(message, payload, files)))


@routes.delete(f"{MESSAGES}/{{message_id}}")
async def delete_message(request: web.Request) -> web.Response:
    """Delete the bot's own message, or anyone's with MANAGE_MESSAGES."""
    app = bot_app(request)
    ctx = core(request)
    channel = ctx.state.channel(request.match_info["channel_id"])
    ctx.state.require(app.bot.id, channel, Permission.VIEW_CHANNEL)
    message = ctx.state.message(channel, request.match_info["message_id"])
    if message.author.id != app.bot.id:
        ctx.state.require(app.bot.id, channel, Permission.MANAGE_MESSAGES)
    ctx.messaging.delete(message)
    return web.Response(status=204)


@routes.post(f"{API}/channels/{{channel_id}}/typing")
async def trigger_typing(request: web.Request) -> web.Response:
    """Accept a typing indicator."""
    app = bot_app(request)
    ctx = core(request)
    channel = ctx.state.channel(request.match_info["channel_id"])
    ctx.state.require(app.bot.id, channel, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
    return web.Response(status=204)
