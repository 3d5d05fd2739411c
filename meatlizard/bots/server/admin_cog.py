"""`/admin`: enable-requests, transfer-session, metrics and backup, for the admin role only."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy import select

from meatlizard.admin import audit
from meatlizard.admin import service as admin_service
from meatlizard.admin import users as admin_users
from meatlizard.auth.models import User
from meatlizard.backups import service as backup_service
from meatlizard.backups.target import backup_target
from meatlizard.bots import links
from meatlizard.bots.server import channels
from meatlizard.chat.models import ChatSession
from meatlizard.core.errors import ServiceError
from meatlizard.core.metrics import STARTED_AT
from meatlizard.core.storage import StorageError
from meatlizard.relay.models import WorkerMetric

if TYPE_CHECKING:
    from meatlizard.bots.server.bot import ServerBot

log = logging.getLogger(__name__)

NOT_ADMIN = "This command is for the admin role only."


class NotAdmin(app_commands.CheckFailure):
    """The member does not hold the admin role."""


class AdminCog(commands.GroupCog, group_name="admin", group_description="Platform admin"):
    """Admin commands; replies are ephemeral and refusals explain themselves."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not self.bot.is_admin(interaction.user):
            raise NotAdmin(NOT_ADMIN)
        return True

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        cause = getattr(error, "original", error)
        if isinstance(cause, NotAdmin | ServiceError):
            text = str(cause)
        else:
            log.exception("/admin command failed", exc_info=cause)
            text = "Something went wrong; see the server-bot's log."
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)

    async def _actor(self, interaction: discord.Interaction) -> User:
        async with self.bot.services.sessions() as db:
            user = await links.account_for_discord(db, discord_id=interaction.user.id)
            await links.grant_admin_from_role(db, user=user)
            return user

    @app_commands.command(name="enable-requests", description="Accept new AI requests or not")
    @app_commands.describe(enabled="On accepts new requests (web and Discord); off pauses them")
    async def enable_requests(self, interaction: discord.Interaction, enabled: bool) -> None:
        actor = await self._actor(interaction)
        async with self.bot.services.sessions() as db:
            await admin_service.set_requests_enabled(db, actor=actor, enabled=enabled)
        state = "accepted" if enabled else "paused"
        await interaction.response.send_message(
            f"New AI requests are now {state}, on the web and on Discord.", ephemeral=True
        )

    @app_commands.command(name="transfer-session", description="Give a chat session to someone")
    @app_commands.describe(session_id="The session's id", user="The new owner")
    async def transfer_session(
        self, interaction: discord.Interaction, session_id: str, user: discord.Member
    ) -> None:
        actor = await self._actor(interaction)
        async with self.bot.services.sessions() as db:
            target = await links.account_for_discord(db, discord_id=user.id)
            session = await db.get(ChatSession, session_id)
            previous = await db.get(User, session.user_id) if session else None
            await admin_users.transfer_session(
                db, actor=actor, session_id=session_id, to_username=target.username
            )
            channel_id = await links.channel_of(db, session_id=session_id)
        channel = self.bot.get_channel(channel_id or 0)
        if isinstance(channel, discord.TextChannel):
            if previous is not None and previous.discord_id and int(previous.discord_id) != user.id:
                old = channel.guild.get_member(int(previous.discord_id))
                old = old or await channel.guild.fetch_member(int(previous.discord_id))
                await channel.set_permissions(old, overwrite=None)
            await channel.set_permissions(user, overwrite=channels.PARTICIPANT)
        where = f" and {channel.mention}" if isinstance(channel, discord.TextChannel) else ""
        await interaction.response.send_message(
            f"Session `{session_id}`{where} now belong to {user.mention}.", ephemeral=True
        )

    @app_commands.command(name="metrics", description="Client-bot metrics and inference state")
    async def metrics(self, interaction: discord.Interaction) -> None:
        await self._actor(interaction)
        status = self.bot.services.inference.status()
        async with self.bot.services.sessions() as db:
            latest = await db.scalar(select(WorkerMetric).order_by(WorkerMetric.id.desc()).limit(1))
        lines = [
            f"**Inference:** {status.get('state')} ({status.get('mode', 'local')})",
            f"**Worker online:** {'yes' if status.get('state') == 'ready' else 'no'}",
            f"**Queue depth:** {status.get('queue_depth', 0)}",
            f"**Uptime:** {_duration(time.time() - STARTED_AT)}",
        ]
        if latest is None:
            lines.append("**Client metrics:** none received yet")
        else:
            gpu = ", ".join(
                f"{name} {value}"
                for name, value in (
                    ("util %", latest.gpu_utilization),
                    ("mem used MiB", latest.gpu_memory_used),
                    ("mem free MiB", latest.gpu_memory_free),
                    ("temp °C", latest.gpu_temperature),
                )
                if value is not None
            )
            lines.append(
                f"**Client metrics** ({latest.worker_id}, {latest.at:%Y-%m-%d %H:%M:%S} UTC): "
                f"{latest.tokens_per_second:.1f} tokens/s; GPU: {gpu or 'not reported'}"
            )
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @app_commands.command(name="backup", description="Back the database up now")
    async def backup(self, interaction: discord.Interaction) -> None:
        actor = await self._actor(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        try:
            async with backup_target(services.settings, services.storage) as target:
                info = await backup_service.create_backup(
                    database_url=services.settings.effective_database_url,
                    storage=services.storage,
                    target=target,
                )
        except (backup_service.BackupError, StorageError) as exc:
            await interaction.followup.send(
                f"Backup failed: {exc}. Check BACKUP_TARGET and the storage settings.",
                ephemeral=True,
            )
            return
        async with services.sessions() as db:
            audit.record(db, action="backup.create", actor_id=actor.id, target=info.key)
            await db.commit()
        where = (
            "backup target " + services.settings.backup_target
            if services.settings.backup_target
            else "S3 bucket " + services.settings.s3_bucket_name
            if services.settings.s3_bucket_name
            else "local storage folder"
        )
        await interaction.followup.send(
            f"Backup stored in the {where}: `{info.key}` ({info.size} bytes, "
            f"{sum(info.row_counts.values())} rows, sha256 `{info.sha256[:16]}…`).",
            ephemeral=True,
        )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h {minutes}m {secs}s"
