"""The buttons `/ai end` shows: keep a transcript (archive the channel) or not (delete it)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from meatlizard.bots import links
from meatlizard.chat.ending import by_owner, finish_session
from meatlizard.transcripts import service as transcripts
from meatlizard.transcripts.delivery import TranscriptReady

if TYPE_CHECKING:
    from meatlizard.bots.server.bot import ServerBot

log = logging.getLogger(__name__)

VIEW_TIMEOUT_SECONDS = 300.0


class EndSessionView(discord.ui.View):
    """Two buttons for the session's owner."""

    def __init__(self, bot: ServerBot, *, session_id: str, owner_id: int) -> None:
        super().__init__(timeout=VIEW_TIMEOUT_SECONDS)
        self.bot = bot
        self.session_id = session_id
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only the owner of this session can end it.", ephemeral=True
            )
            return False
        return True

    @discord.ui.button(label="Save transcript", style=discord.ButtonStyle.primary, custom_id="save")
    async def save(
        self, interaction: discord.Interaction, button: discord.ui.Button[EndSessionView]
    ) -> None:
        await self._end(interaction, save=True)

    @discord.ui.button(label="Don't save", style=discord.ButtonStyle.secondary, custom_id="discard")
    async def discard(
        self, interaction: discord.Interaction, button: discord.ui.Button[EndSessionView]
    ) -> None:
        await self._end(interaction, save=False)

    async def _end(self, interaction: discord.Interaction, *, save: bool) -> None:
        self.stop()
        services = self.bot.services
        await interaction.response.edit_message(content="Ending the session…", view=None)
        written: list[TranscriptReady] = []

        async def write_transcript(session_id: str) -> None:  # awaited: the DM says where
            record = await transcripts.archive_session(
                services.sessions, services.storage, session_id
            )
            if record is not None:
                written.append(record)

        async with services.sessions() as db:
            user = await links.account_for_discord(db, discord_id=self.owner_id)
            # No session event: this bot archives or deletes the channel itself, below.
            await finish_session(
                db,
                by_owner(user, self.session_id, save),
                write_transcript=write_transcript,
                events=None,
            )
        channel = interaction.channel
        for record in written:
            await self._announce(record)
        if save and isinstance(channel, discord.TextChannel):
            owner = interaction.user  # the owner pressed the button (interaction_check)
            await self.bot.archives.archive(
                channel,
                owner=owner if isinstance(owner, discord.Member) else None,
                reason="chat session ended with a transcript",
            )
            await interaction.followup.send(
                "Session ended; the channel is archived.", ephemeral=True
            )
        elif isinstance(channel, discord.TextChannel):
            async with services.sessions() as db:
                await links.forget_channel(db, session_id=self.session_id)
            await channel.delete(reason="chat session ended without a transcript")

    async def _announce(self, record: TranscriptReady) -> None:
        """Post the permanent path to #ai-transcripts and DM the owner where to download it."""
        target = self.bot.get_channel(self.bot.transcript_channel_id or 0)
        if isinstance(target, discord.TextChannel):
            await target.send(
                f"Transcript of session `{self.session_id}` by <@{self.owner_id}> "
                f"(`{record.username}`): `{record.permanent_path}` "
                f"(`{record.json_key}`, `{record.csv_key}`)",
                allowed_mentions=discord.AllowedMentions.none(),
            )
        settings = self.bot.settings
        url = await self.bot.services.storage.presigned_url(
            record.json_key, settings.transcript_link_hours * 3600
        )
        if url is not None:
            text = f"Your transcript (link valid {settings.transcript_link_hours} h): {url}"
        else:  # local storage has no signed links: the web site serves it to its owner
            base = settings.link_public_base_url or ""
            path = f"/api/v1/chat/sessions/{self.session_id}/transcript?format=json"
            text = f"Your transcript is saved; download it (logged in) from {base}{path}"
        try:
            user = await self.bot.fetch_user(self.owner_id)
            await user.send(text)
        except discord.HTTPException as exc:
            log.info("could not DM the transcript: %s", exc)
