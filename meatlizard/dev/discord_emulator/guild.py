"""A guild: its roles, members and channels, and what each member may do in a channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meatlizard.dev.discord_emulator.models import Channel, Member, Role, iso_now
from meatlizard.dev.discord_emulator.permissions import apply_overwrites, base_permissions


@dataclass
class Guild:
    """A guild; its @everyone role has the guild's id."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    created_at: str = field(default_factory=iso_now)

    def base_permissions(self, user_id: int) -> int:
        """Return the member's guild-level permissions."""
        member = self.members[user_id]
        return base_permissions(
            is_owner=user_id == self.owner_id,
            everyone=self.roles[self.id].permissions,
            role_permissions=(self.roles[r].permissions for r in member.roles if r in self.roles),
        )

    def permissions_in(self, channel: Channel, user_id: int) -> int:
        """Return the member's permissions in a channel (0 when not a member)."""
        if user_id not in self.members:
            return 0
        overwrites = [(o.id, o.type, o.allow, o.deny) for o in channel.overwrites.values()]
        return apply_overwrites(
            self.base_permissions(user_id),
            guild_id=self.id,
            member_id=user_id,
            member_roles=self.members[user_id].roles,
            overwrites=overwrites,
        )

    def payload(self) -> dict[str, Any]:
        """Return the guild object (as in GET /guilds/{id})."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [role.payload() for role in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    def create_payload(self, joined_at: str) -> dict[str, Any]:
        """Return the GUILD_CREATE event data: the guild plus channels and members."""
        data = self.payload()
        data.update(
            {
                "joined_at": joined_at,
                "large": False,
                "unavailable": False,
                "member_count": len(self.members),
                "voice_states": [],
                "members": [member.payload() for member in self.members.values()],
                "channels": [channel.payload() for channel in self.channels.values()],
                "threads": [],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        for channel in data["channels"]:
            channel.pop("guild_id", None)  # GUILD_CREATE channels omit guild_id
        return data
