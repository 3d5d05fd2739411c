"""`/ai`: start, set-system, set-temp, end and gdpr-anonymize."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from meatlizard.admin import service as admin_service
from meatlizard.bots import links
from meatlizard.bots.server import channels
from meatlizard.bots.server.end_view import EndSessionView
from meatlizard.bots.server.replies import defer, reply, report_error
from meatlizard.chat import service as chat_service
from meatlizard.chat.presets import PRESETS
from meatlizard.chat.schemas import SessionCreate, SessionUpdate
from meatlizard.core.errors import InvalidInput, Refused, ServiceError
from meatlizard.gdpr import service as gdpr_service

if TYPE_CHECKING:
    from meatlizard.bots.server.bot import ServerBot

log = logging.getLogger(__name__)

PRESET_CHOICES = [app_commands.Choice(name=p.label, value=p.key) for p in PRESETS.values()]
NOT_A_SESSION = "Use this command in the private channel of your chat session."
TEMPERATURE_MIN, TEMPERATURE_MAX = 0.0, 2.0


def checked_temperature(value: float | None) -> float | None:
    """Refuse a temperature outside 0-2 (Discord enforces the range; an emulator may not)."""
    if value is not None and not TEMPERATURE_MIN <= value <= TEMPERATURE_MAX:
        raise InvalidInput(
            f"temperature must be between {TEMPERATURE_MIN:g} and {TEMPERATURE_MAX:g} "
            f"(got {value:g})"
        )
    return value


class AiCog(commands.GroupCog, group_name="ai", group_description="Chat with the AI"):
    """The user's chat commands; every reply is ephemeral."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        super().__init__()

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        cause = getattr(error, "original", error)
        await report_error(
            interaction,
            cause,
            known=isinstance(cause, ServiceError),
            fallback="Something went wrong; please try again.",
        )

    @app_commands.command(name="start", description="Start a private chat session")
    @app_commands.describe(
        preset="A prompt from the library",
        system_prompt="Instructions for the model",
        temperature="Randomness, 0 to 2",
    )
    @app_commands.choices(preset=PRESET_CHOICES)
    async def start(
        self,
        interaction: discord.Interaction,
        preset: str | None = None,
        system_prompt: str | None = None,
        temperature: app_commands.Range[float, 0.0, 2.0] | None = None,
    ) -> None:
        await defer(interaction)
        services, guild = self.bot.services, self.bot.home_guild()
        async with services.sessions() as db:
            if not await admin_service.requests_enabled(db):
                raise Refused("an admin has paused new AI requests; try again later")
            user = await links.account_for_discord(db, discord_id=interaction.user.id)
            session = await chat_service.create_session(
                db,
                user=user,
                data=SessionCreate(
                    preset=preset,
                    system_prompt=system_prompt,
                    temperature=checked_temperature(temperature),
                ),
                aliases=services.inference.aliases,
                default_alias=services.inference.default_alias,
            )
            session_id = session.id
        try:  # within the channel budget, or Refused with a clear message (admins told)
            channel = await self.bot.channel_budget.create_channel(
                guild,
                f"{channels.SESSION_CHANNEL_PREFIX}{session_id[:8]}",
                overwrites=channels.session_overwrites(
                    guild,
                    interaction.user.id,
                    client_bot_id=self.bot.client_bot_id,
                    admin_role_id=self.bot.admin_role_id,
                ),
                topic=f"MeatLizard chat session {session_id}",
                reason=f"/ai start by {interaction.user.id}",
            )
            async with services.sessions() as db:
                await links.remember_channel(
                    db, session_id=session_id, channel_id=channel.id, guild_id=guild.id
                )
        except Exception:
            async with services.sessions() as db:  # no session without its channel
                await chat_service.delete_session(db, user=user, session_id=session_id)
            raise
        await interaction.followup.send(
            f"Your chat is ready in {channel.mention}. Write your prompts there.", ephemeral=True
        )

    @app_commands.command(name="set-system", description="Change the system prompt")
    @app_commands.describe(prompt="Instructions for the model")
    async def set_system(self, interaction: discord.Interaction, prompt: str) -> None:
        await self._update(interaction, SessionUpdate(system_prompt=prompt), "System prompt set.")

    @app_commands.command(name="set-temp", description="Change the temperature")
    @app_commands.describe(temperature="Randomness, 0 to 2")
    async def set_temp(
        self, interaction: discord.Interaction, temperature: app_commands.Range[float, 0.0, 2.0]
    ) -> None:
        await self._update(
            interaction,
            SessionUpdate(temperature=checked_temperature(temperature)),
            f"Temperature set to {temperature}.",
        )

    async def _update(
        self, interaction: discord.Interaction, data: SessionUpdate, done: str
    ) -> None:
        await defer(interaction)  # the database may be slow; Discord waits 3 s for the first answer
        services = self.bot.services
        async with services.sessions() as db:
            session_id = await links.session_of(db, channel_id=interaction.channel_id or 0)
            if session_id is None:
                raise Refused(NOT_A_SESSION)
            user = await links.account_for_discord(db, discord_id=interaction.user.id)
            await chat_service.update_session(
                db, user=user, session_id=session_id, data=data, aliases=services.inference.aliases
            )
        await reply(interaction, done)

    @app_commands.command(name="end", description="End this chat session")
    async def end(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        async with self.bot.services.sessions() as db:
            session_id = await links.session_of(db, channel_id=interaction.channel_id or 0)
            if session_id is None:
                raise Refused(NOT_A_SESSION)
            user = await links.account_for_discord(db, discord_id=interaction.user.id)
            await chat_service.get_session(db, user=user, session_id=session_id)
        await reply(
            interaction,
            "Save a transcript of this chat before it ends?",
            view=EndSessionView(self.bot, session_id=session_id, owner_id=interaction.user.id),
        )

    @app_commands.command(name="gdpr-anonymize", description="Replace your identity everywhere")
    async def gdpr_anonymize(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        services = self.bot.services
        async with services.sessions() as db:
            user = await links.account_for_discord(db, discord_id=interaction.user.id)
        report = await gdpr_service.anonymize(services.sessions, services.storage, user_id=user.id)
        await interaction.followup.send(
            f"Done: you are now `{report.anonymous_id}`; {report.sessions} sessions and "
            f"{report.messages_rewritten} messages were rewritten and your Discord link removed.",
            ephemeral=True,
        )
