"""The test-control API: build a world, act as users, inspect what the bots did."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from meatlizard.dev.discord_emulator import commands
from meatlizard.dev.discord_emulator.core import Core
from meatlizard.dev.discord_emulator.gateway import PRIVILEGED
from meatlizard.dev.discord_emulator.guild import Guild
from meatlizard.dev.discord_emulator.interactions import (
    APPLICATION_COMMAND,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    Interaction,
)
from meatlizard.dev.discord_emulator.message import Message
from meatlizard.dev.discord_emulator.messaging import Upload
from meatlizard.dev.discord_emulator.models import (
    DM,
    GUILD_TEXT,
    Application,
    Channel,
    Member,
    Overwrite,
    Role,
    User,
    snowflake,
)
from meatlizard.dev.discord_emulator.permissions import DEFAULT_EVERYONE, Permission
from meatlizard.dev.discord_emulator.ratelimit import MESSAGE_CREATE, RateLimitHit

WAIT_LIMIT_S = 30.0  # a safety net so a broken test fails instead of hanging


class Control:
    """Plain methods for fixtures and tests; they change state and publish events like Discord."""

    core: Core

    def create_user(self, username: str, *, email: str | None = None) -> User:
        """Create a human user."""
        user = User(snowflake(), username, email=email or f"{username}@example.test")
        self.core.state.users[user.id] = user
        return user

    def create_bot(
        self,
        name: str,
        *,
        owner: User | None = None,
        privileged_intents: int = int(PRIVILEGED),
        redirect_uris: Iterable[str] = (),
    ) -> Application:
        """Create an application with a bot user; `app.token` is its bot token."""
        bot = User(snowflake(), name, bot=True)
        owner = owner or self.create_user(f"{name}-owner")
        token = (
            f"{secrets.token_urlsafe(18)}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"
        )
        app = Application(
            bot, owner, token, secrets.token_urlsafe(24), privileged_intents, list(redirect_uris)
        )
        state = self.core.state
        state.users[bot.id] = bot
        state.apps[app.id] = app
        state.tokens[token] = app
        return app

    def create_guild(self, name: str, owner: User) -> Guild:
        """Create a guild with its @everyone role, a #general channel and the owner as member."""
        guild = Guild(snowflake(), name, owner.id)
        guild.roles[guild.id] = Role(guild.id, "@everyone", int(DEFAULT_EVERYONE))
        guild.members[owner.id] = Member(owner)
        self.core.state.guilds[guild.id] = guild
        self.create_channel(guild, "general")
        return guild

    def create_role(self, guild: Guild, name: str, permissions: int = 0) -> Role:
        """Create a role and publish GUILD_ROLE_CREATE."""
        role = Role(snowflake(), name, int(permissions), position=len(guild.roles))
        guild.roles[role.id] = role
        self.core.events.member_event("GUILD_ROLE_CREATE", guild.id, {"role": role.payload()})
        return role

    def add_member(
        self, guild: Guild, user: User | Application, roles: Iterable[Role] = ()
    ) -> Member:
        """Add a user (or an app's bot) to a guild and publish GUILD_MEMBER_ADD."""
        user = user.bot if isinstance(user, Application) else user
        member = Member(user, [role.id for role in roles])
        guild.members[user.id] = member
        self.core.events.member_event("GUILD_MEMBER_ADD", guild.id, member.payload())
        if user.bot:
            self._announce_guild(guild, user)
        return member

    def _announce_guild(self, guild: Guild, bot: User) -> None:
        """A bot that joins a guild receives GUILD_CREATE on its open sessions."""
        for session in self.core.gateway.sessions.values():
            if session.app.bot.id == bot.id:
                session.dispatch(
                    "GUILD_CREATE", guild.create_payload(guild.members[bot.id].joined_at)
                )

    def give_role(self, guild: Guild, user: User | Application, role: Role) -> None:
        """Give a member a role and publish GUILD_MEMBER_UPDATE."""
        user = user.bot if isinstance(user, Application) else user
        member = guild.members[user.id]
        if role.id not in member.roles:
            member.roles.append(role.id)
        data = {
            "roles": [str(r) for r in member.roles],
            "user": user.payload(),
            "nick": member.nick,
            "joined_at": member.joined_at,
        }
        self.core.events.member_event("GUILD_MEMBER_UPDATE", guild.id, data)

    def create_channel(
        self,
        guild: Guild,
        name: str,
        *,
        overwrites: Iterable[Overwrite] = (),
        kind: int = GUILD_TEXT,
        topic: str | None = None,
        parent: Channel | None = None,
    ) -> Channel:
        """Create a guild channel as an admin would, and publish CHANNEL_CREATE."""
        channel = Channel(
            snowflake(),
            kind,
            name,
            guild.id,
            position=len(guild.channels),
            topic=topic,
            parent_id=parent.id if parent is not None else None,
        )
        channel.overwrites = {o.id: o for o in overwrites}
        guild.channels[channel.id] = channel
        self.core.state.channels[channel.id] = channel
        self.core.events.channel_event("CHANNEL_CREATE", channel)
        return channel

    def open_dm(self, user: User, app: Application) -> Channel:
        """Return the DM channel between a user and a bot, creating it if needed."""
        state = self.core.state
        for channel in state.channels.values():
            if channel.type == DM and {u.id for u in channel.recipients} == {user.id, app.bot.id}:
                return channel
        channel = Channel(snowflake(), DM, recipients=[user, app.bot])
        state.channels[channel.id] = channel
        return channel

    def post_message(
        self,
        channel: Channel,
        user: User,
        content: str = "",
        *,
        files: Iterable[tuple[str, bytes]] = (),
    ) -> Message:
        """Post a message as a user (permissions enforced) and publish MESSAGE_CREATE."""
        state = self.core.state
        state.require(user.id, channel, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
        uploads = {
            i: Upload(name, "application/octet-stream", data)
            for i, (name, data) in enumerate(files)
        }
        return self.core.messaging.create(channel, user, {"content": content}, uploads)

    def history(self, channel: Channel, *, include_ephemeral: bool = True) -> list[Message]:
        """Return the channel's live messages, oldest first (ephemeral ones too, by default)."""
        messages = self.core.state.channel_messages(channel.id)
        return [m for m in messages if include_ephemeral or not m.ephemeral]

    def _deliver(self, interaction: Interaction, payload: dict[str, Any]) -> Interaction:
        if not self.core.events.to_app(interaction.app, "INTERACTION_CREATE", payload):
            raise RuntimeError(f"application {interaction.app.id} has no gateway session")
        return interaction

    def invoke_command(
        self, app: Application, user: User, channel: Channel, command: str, /, **options: Any
    ) -> Interaction:
        """Run `/command [group] [sub]` with options as `user`; deliver INTERACTION_CREATE."""
        name, *path = command.split()
        registered = commands.find(self.core.state, app, channel.guild_id, name)
        data: dict[str, Any] = {
            "id": registered["id"],
            "name": name,
            "type": commands.CHAT_INPUT,
            "options": commands.build_options(registered["options"], path, options),
        }
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        leaves = commands.leaf_options(data["options"])
        resolved = commands.resolved(self.core.state, leaves, channel.guild_id)
        if resolved:
            data["resolved"] = resolved
        return self._deliver(
            *self.core.interactions.create(app, user, channel, APPLICATION_COMMAND, data)
        )

    def click_button(
        self, app: Application, user: User, message: Message, custom_id: str
    ) -> Interaction:
        """Press a button on a message; deliver a MESSAGE_COMPONENT interaction."""
        channel = self.core.state.channels[message.channel_id]
        data = {"custom_id": custom_id, "component_type": 2}
        return self._deliver(
            *self.core.interactions.create(app, user, channel, MESSAGE_COMPONENT, data, message)
        )

    def submit_modal(self, shown: Interaction, values: dict[str, str]) -> Interaction:
        """Submit the modal an interaction answered with; deliver a MODAL_SUBMIT interaction."""
        if shown.modal is None:
            raise RuntimeError("the app did not answer this interaction with a modal")
        rows = [commands.filled(row, values) for row in shown.modal.get("components", [])]
        data = {"custom_id": shown.modal["custom_id"], "components": rows}
        return self._deliver(
            *self.core.interactions.create(shown.app, shown.user, shown.channel, MODAL_SUBMIT, data)
        )

    async def wait_until(self, predicate: Callable[[], Any], limit_s: float = WAIT_LIMIT_S) -> Any:
        """Wait until predicate() is truthy (re-checked on every change); return its value."""

        async def _wait() -> Any:
            async with self.core.state.changed:
                while not (result := predicate()):
                    await self.core.state.changed.wait()
                return result

        return await asyncio.wait_for(_wait(), limit_s)

    async def drop_gateway(self, app: Application, code: int = 4000) -> int:
        """Close the app's gateway connections; sessions stay resumable."""
        return await self.core.gateway.drop(app, code)

    def request_reconnect(self, app: Application) -> None:
        """Send op 7 RECONNECT to the app."""
        self.core.gateway.request_reconnect(app)

    def set_heartbeat(self, interval_s: float) -> None:
        """Set the heartbeat interval told in HELLO to connections opened from now on."""
        self.core.gateway.heartbeat_interval_ms = round(interval_s * 1000)

    def invalidate_session(self, app: Application, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION to the app."""
        self.core.gateway.invalidate(app, resumable=resumable)

    def set_rate_limit(
        self, route: str = MESSAGE_CREATE, limit: int = 5, per: float = 5.0, *, shared: bool = False
    ) -> None:
        """Set a route's rate limit (default: message create, 5 per 5 s per channel)."""
        self.core.limiter.set_limit(route, limit, per, shared=shared)

    @property
    def rate_limit_hits(self) -> list[RateLimitHit]:
        """Return the 429s answered so far."""
        return self.core.limiter.hits

    def authorize_as(self, user: User | None) -> None:
        """Set who approves OAuth2 authorize requests (None: nobody is signed in)."""
        self.core.authorizing_user = user
        self.core.deny_consent = False

    def deny_authorization(self) -> None:
        """Make the signed-in user cancel the consent page (redirect with access_denied)."""
        self.core.deny_consent = True
