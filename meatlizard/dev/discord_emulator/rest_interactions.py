"""REST: application command sync, interaction callbacks and follow-up webhooks."""

from __future__ import annotations

from aiohttp import web

from meatlizard.dev.discord_emulator import commands, errors
from meatlizard.dev.discord_emulator.core import bot_app, core, json
from meatlizard.dev.discord_emulator.interactions import Interaction
from meatlizard.dev.discord_emulator.messaging import read_body
from meatlizard.dev.discord_emulator.models import Application

routes = web.RouteTableDef()
API = "/api/v10"
GLOBAL = f"{API}/applications/{{application_id}}/commands"
GUILD = f"{API}/applications/{{application_id}}/guilds/{{guild_id}}/commands"
WEBHOOK = f"{API}/webhooks/{{webhook_id}}/{{webhook_token}}"


def _scope(request: web.Request) -> tuple[Application, int | None]:
    """Return the calling app and the command scope (a guild id, or None for global)."""
    app = bot_app(request)
    if request.match_info["application_id"] != str(app.id):
        raise errors.missing_access()
    if "guild_id" not in request.match_info:
        return app, None
    guild = core(request).state.guild(request.match_info["guild_id"])
    if app.bot.id not in guild.members:
        raise errors.missing_access()
    return app, guild.id


@routes.get(GLOBAL)
@routes.get(GUILD)
async def list_commands(request: web.Request) -> web.Response:
    """List the app's commands in a scope."""
    app, guild_id = _scope(request)
    return json(list(core(request).state.commands.get((app.id, guild_id), {}).values()))


@routes.put(GLOBAL)
@routes.put(GUILD)
async def overwrite_commands(request: web.Request) -> web.Response:
    """Bulk-overwrite the app's commands in a scope (what discord.py's tree.sync() calls)."""
    app, guild_id = _scope(request)
    body = await request.json()
    return json(commands.overwrite(core(request).state, app, guild_id, body))


@routes.post(GLOBAL)
@routes.post(GUILD)
async def create_command(request: web.Request) -> web.Response:
    """Create or replace one command by name."""
    app, guild_id = _scope(request)
    state = core(request).state
    body = await request.json()
    existing = [
        c
        for c in state.commands.get((app.id, guild_id), {}).values()
        if c["name"] != body.get("name")
    ]
    stored = commands.overwrite(state, app, guild_id, [*existing, body])
    return json(next(c for c in stored if c["name"] == body.get("name")), 201)


@routes.delete(f"{GLOBAL}/{{command_id}}")
@routes.delete(f"{GUILD}/{{command_id}}")
async def delete_command(request: web.Request) -> web.Response:
    """Delete one command."""
    app, guild_id = _scope(request)
    scope = core(request).state.commands.get((app.id, guild_id), {})
    if scope.pop(int(request.match_info["command_id"]), None) is None:
        raise errors.not_found(errors.UNKNOWN_APPLICATION_COMMAND, "application command")
    return web.Response(status=204)


@routes.post(f"{API}/interactions/{{interaction_id}}/{{interaction_token}}/callback")
async def interaction_callback(request: web.Request) -> web.Response:
    """Answer an interaction (types 4, 5, 6, 7, 9); with_response returns the callback object."""
    ctx = core(request)
    record = ctx.interactions.get(
        request.match_info["interaction_id"], request.match_info["interaction_token"]
    )
    body, files = await read_body(request)
    answer = ctx.interactions.callback(record, body, files)
    if request.query.get("with_response", "false").lower() in ("1", "true"):
        return json(answer)
    return web.Response(status=204)


def _webhook(request: web.Request) -> Interaction:
    ctx = core(request)
    return ctx.interactions.by_token(
        request.match_info["webhook_id"], request.match_info["webhook_token"]
    )


@routes.post(WEBHOOK)
async def execute_followup(request: web.Request) -> web.Response:
    """Send an interaction follow-up message (wait=true returns it)."""
    record = _webhook(request)
    body, files = await read_body(request)
    message = core(request).interactions.followup(record, body, files)
    if request.query.get("wait", "false").lower() in ("1", "true"):
        return json(message.payload())
    return web.Response(status=204)


@routes.get(f"{WEBHOOK}/messages/{{message_id}}")
async def get_webhook_message(request: web.Request) -> web.Response:
    """Return the original response or a follow-up."""
    record = _webhook(request)
    message = core(request).interactions.webhook_message(record, request.match_info["message_id"])
    return json(message.payload())


@routes.patch(f"{WEBHOOK}/messages/{{message_id}}")
async def edit_webhook_message(request: web.Request) -> web.Response:
    """Edit the original response (completing a deferred one) or a follow-up."""
    ctx = core(request)
    record = _webhook(request)
    message = ctx.interactions.webhook_message(record, request.match_info["message_id"])
    body, files = await read_body(request)
    return json(ctx.interactions.edit(message, body, files).payload())


@routes.delete(f"{WEBHOOK}/messages/{{message_id}}")
async def delete_webhook_message(request: web.Request) -> web.Response:
    """Delete the original response or a follow-up."""
    ctx = core(request)
    record = _webhook(request)
    message = ctx.interactions.webhook_message(record, request.match_info["message_id"])
    ctx.messaging.delete(message)
    return web.Response(status=204)
