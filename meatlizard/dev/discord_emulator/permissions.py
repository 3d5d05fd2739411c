"""Discord permission bits and the documented overwrite algorithm."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntFlag


class Permission(IntFlag):
    """Permission bits (topics/permissions#permissions-bitwise-permission-flags)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31


ALL = (1 << 51) - 1
# What @everyone gets in a new guild, like Discord's default role.
DEFAULT_EVERYONE = (
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.MENTION_EVERYONE
    | Permission.USE_APPLICATION_COMMANDS
)

ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1


def base_permissions(*, is_owner: bool, everyone: int, role_permissions: Iterable[int]) -> int:
    """Return guild-level permissions: @everyone plus the member's roles."""
    if is_owner:
        return ALL
    value = everyone
    for permissions in role_permissions:
        value |= permissions
    return ALL if value & Permission.ADMINISTRATOR else value


def apply_overwrites(
    base: int,
    *,
    guild_id: int,
    member_id: int,
    member_roles: Iterable[int],
    overwrites: Iterable[tuple[int, int, int, int]],
) -> int:
    """Apply channel overwrites (id, type, allow, deny) in Discord's documented order."""
    if base & Permission.ADMINISTRATOR or base == ALL:
        return ALL
    by_id = {(target, kind): (allow, deny) for target, kind, allow, deny in overwrites}
    value = base
    everyone = by_id.get((guild_id, ROLE_OVERWRITE))
    if everyone:
        value = (value & ~everyone[1]) | everyone[0]
    allow = deny = 0
    for role_id in member_roles:
        role = by_id.get((role_id, ROLE_OVERWRITE))
        if role:
            allow |= role[0]
            deny |= role[1]
    value = (value & ~deny) | allow
    member = by_id.get((member_id, MEMBER_OVERWRITE))
    if member:
        value = (value & ~member[1]) | member[0]
    if not value & Permission.VIEW_CHANNEL:
        return 0
    return value
