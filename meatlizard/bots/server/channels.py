"""Who may see which channel: session channels, #ai-metrics, #ai-transcripts, #ai-relay."""

from __future__ import annotations

import discord

METRICS_CHANNEL = "ai-metrics"
TRANSCRIPTS_CHANNEL = "ai-transcripts"
RELAY_CHANNEL = "ai-relay"
SESSION_CHANNEL_PREFIX = "ai-"
ARCHIVED_PREFIX = "archived-"

# Discord refuses a guild's 501st channel with 30013, and a category's 51st with a form error.
MAX_GUILD_CHANNELS_REACHED = 30013
# discord.py keeps a form error's message, not its code (CHANNEL_PARENT_MAX_CHANNELS).
CATEGORY_FULL = "Maximum number of channels in category"
CHANNEL_LIMIT_USER = (
    "The Discord server has no room for another chat channel, so no new chat can start "
    "right now; the admins have been told."
)


def channel_limit_notice(count: int, budget: int) -> str:
    """Return what the admins are told when a chat could not start for want of a channel."""
    return (
        f"A new chat could not start: the server holds {count} channels and the channel "
        f"budget is {budget} (DISCORD_CHANNEL_BUDGET; Discord allows at most 500). No archived "
        "chat channel was left to delete: delete channels by hand, or raise the budget."
    )


Overwrites = dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite]

PARTICIPANT = discord.PermissionOverwrite(
    view_channel=True, send_messages=True, read_message_history=True, attach_files=True
)
BOT = discord.PermissionOverwrite(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    attach_files=True,
    manage_channels=True,
)
# The server-bot's role, least privilege (docs/deployment.md). Discord lets a bot allow or
# deny in an overwrite only what it holds itself, so BOT above stays within this set.
SERVER_BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    attach_files=True,
    embed_links=True,
    manage_channels=True,
    manage_roles=True,
)
HIDDEN = discord.PermissionOverwrite(view_channel=False)
READ_ONLY = discord.PermissionOverwrite(
    view_channel=True, send_messages=False, read_message_history=True
)


def is_channel_limit(error: BaseException) -> bool:
    """Return whether Discord refused a channel because the guild or category is full."""
    return isinstance(error, discord.HTTPException) and (
        error.code == MAX_GUILD_CHANNELS_REACHED or CATEGORY_FULL in error.text
    )


def missing_permissions(member: discord.Member) -> list[str]:
    """Return the names of SERVER_BOT_PERMISSIONS the member lacks in its guild."""
    held = member.guild_permissions
    return [name for name, value in SERVER_BOT_PERMISSIONS if value and not getattr(held, name)]


def staff_overwrites(guild: discord.Guild, *, client_bot_id: int, admin_role_id: int) -> Overwrites:
    """Return overwrites that show a channel only to both bots and the admin role."""
    admin_role = guild.get_role(admin_role_id)
    if admin_role is None:
        raise LookupError(f"ADMIN_ROLE_ID {admin_role_id} is not a role of guild {guild.id}")
    return {
        guild.default_role: HIDDEN,
        guild.me: BOT,
        discord.Object(client_bot_id): PARTICIPANT,  # a plain id counts as a member
        admin_role: PARTICIPANT,
    }


def is_staff_only(channel: discord.TextChannel, *, client_bot_id: int, admin_role_id: int) -> bool:
    """Return whether no one but both bots and the admin role is let in by an overwrite."""
    staff = {channel.guild.me.id, client_bot_id, admin_role_id}
    return not any(
        target.id not in staff and overwrite.view_channel
        for target, overwrite in channel.overwrites.items()
    )


def session_overwrites(
    guild: discord.Guild, user_id: int, *, client_bot_id: int, admin_role_id: int
) -> Overwrites:
    """Return overwrites for a session channel: its user, both bots and the admin role."""
    overwrites = staff_overwrites(guild, client_bot_id=client_bot_id, admin_role_id=admin_role_id)
    overwrites[discord.Object(user_id)] = PARTICIPANT
    return overwrites


async def ensure_channel(
    guild: discord.Guild, name: str, overwrites: Overwrites
) -> discord.TextChannel:
    """Return the text channel with this name, creating it (private to staff) if missing."""
    existing = discord.utils.get(guild.text_channels, name=name)
    if existing is not None:
        return existing
    return await guild.create_text_channel(name, overwrites=overwrites, reason="MeatLizard setup")


def is_archived(channel: discord.TextChannel) -> bool:
    """Return whether the channel was archived already."""
    return channel.name.startswith(ARCHIVED_PREFIX)
