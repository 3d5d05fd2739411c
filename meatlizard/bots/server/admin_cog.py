"""`/admin`: enable-requests, transfer-session, metrics and backup, for the admin role only."""

from __future__ import annotations

import asyncio
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
from meatlizard.bots.server.replies import defer, reply, report_error
from meatlizard.chat.models import ChatSession
from meatlizard.core.errors import ServiceError
from meatlizard.core.metrics import STARTED_AT
from meatlizard.core.storage import StorageError
from meatlizard.relay.models import WorkerMetric

if TYPE_CHECKING:
    from meatlizard.bots.server.bot import ServerBot

log = logging.getLogger(__name__)

NOT_ADMIN = "This command is for the admin role only."
# A follow-up token lives 15 minutes (interactions/receiving-and-responding); keep a margin.
FOLLOWUP_WINDOW_S = 14 * 60.0
BACKUP_STILL_RUNNING = (
    "The backup is still running; its result will come to you as a direct message."
)


class NotAdmin(app_commands.CheckFailure):
    """The member does not hold the admin role."""


class AdminCog(commands.GroupCog, group_name="admin", group_description="Platform admin"):
    """Admin commands; replies are ephemeral and refusals explain themselves."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        self.followup_window_s = FOLLOWUP_WINDOW_S
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if not self.bot.is_admin(interaction.user):
            raise NotAdmin(NOT_ADMIN)
        return True

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        cause = getattr(error, "original", error)
        await report_error(
            interaction,
            cause,
            known=isinstance(cause, NotAdmin | ServiceError),
            fallback="Something went wrong; see the server-bot's log.",
        )

    async def _actor(self, interaction: discord.Interaction) -> User:
        async with self.bot.services.sessions() as db:
            user = await links.account_for_discord(db, discord_id=interaction.user.id)
            await links.grant_admin_from_role(db, user=user)
            return user

    @app_commands.command(name="enable-requests", description="Accept new AI requests or not")
    @app_commands.describe(enabled="On accepts new requests (web and Discord); off pauses them")
    async def enable_requests(self, interaction: discord.Interaction, enabled: bool) -> None:
        await defer(interaction)
        actor = await self._actor(interaction)
        async with self.bot.services.sessions() as db:
            await admin_service.set_requests_enabled(db, actor=actor, enabled=enabled)
        state = "accepted" if enabled else "paused"
        await reply(interaction, f"New AI requests are now {state}, on the web and on Discord.")

    @app_commands.command(name="transfer-session", description="Give a chat session to someone")
    @app_commands.describe(session_id="The session's id", user="The new owner")
    async def transfer_session(
        self, interaction: discord.Interaction, session_id: str, user: discord.Member
    ) -> None:
        await defer(interaction)  # database work, a member fetch and two permission edits follow
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
        await reply(interaction, f"Session `{session_id}`{where} now belong to {user.mention}.")

    @app_commands.command(name="metrics", description="Client-bot metrics and inference state")
    async def metrics(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
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
        await reply(interaction, "\n".join(lines))

    @app_commands.command(name="backup", description="Back the database up now")
    async def backup(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await self._actor(interaction)
        running = asyncio.create_task(self._backup(actor))
        try:
            text = await asyncio.wait_for(asyncio.shield(running), self.followup_window_s)
        except TimeoutError:
            # The follow-up token dies after 15 minutes: say now where the result will appear.
            await reply(interaction, BACKUP_STILL_RUNNING)
            text = await running
            try:
                await interaction.user.send(text)
            except discord.HTTPException as exc:
                log.warning("could not DM the backup result (%s): %s", exc, text)
            return
        await reply(interaction, text)

    async def _backup(self, actor: User) -> str:
        """Run the backup and return the sentence that reports it."""
        services = self.bot.services
        try:
            async with backup_target(services.settings, services.storage) as target:
                info = await backup_service.create_backup(
                    database_url=services.settings.effective_database_url,
                    storage=services.storage,
                    target=target,
                )
        except (backup_service.BackupError, StorageError) as exc:
            return f"Backup failed: {exc}. Check BACKUP_TARGET and the storage settings."
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
        return (
            f"Backup stored in the {where}: `{info.key}` ({info.size} bytes, "
            f"{sum(info.row_counts.values())} rows, sha256 `{info.sha256[:16]}…`)."
        )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h {minutes}m {secs}s"
