"""Sealed replies and metrics from the client-bot, handed to the relay gateway."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from meatlizard.bots import frames
from meatlizard.relay.metrics_store import store_worker_metric
from meatlizard.relay.wire import (
    ChunkPayload,
    ClientMetricsPayload,
    EnvelopeError,
    ErrorPayload,
    ResponsePayload,
)

if TYPE_CHECKING:
    from meatlizard.bots.server.bot import ServerBot

log = logging.getLogger(__name__)


class RelayCog(commands.Cog):
    """Reads relay messages: only the client-bot's, only envelopes that open."""

    def __init__(self, bot: ServerBot) -> None:
        self.bot = bot
        self._metrics_saved: float | None = None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.id == self.bot.user.id or not frames.is_relay(message):  # type: ignore[union-attr]
            return
        if message.author.id != self.bot.client_bot_id:
            log.warning(
                "ignoring relay message %s from %s: not the client-bot",
                message.id,
                message.author.id,
            )
            return
        for envelope in await frames.envelopes_of(message):
            try:
                payload = await self.bot.sealer.open(
                    envelope, scope="discord-reply", token=str(message.id)
                )
            except EnvelopeError as exc:
                log.warning("ignoring a relay payload in message %s: %s", message.id, exc)
                continue
            if isinstance(payload, ClientMetricsPayload):
                await self._metrics(payload)
            elif isinstance(payload, ChunkPayload | ResponsePayload | ErrorPayload):
                web = self.bot.web_relay
                if not self.bot.relay.deliver(payload) and not (
                    web is not None and web.deliver(payload, envelope)
                ):
                    log.debug("reply for request %s that nobody waits for", payload.request_id)
            else:
                log.warning("ignoring a %s payload from the client-bot", type(payload).__name__)

    async def _metrics(self, metrics: ClientMetricsPayload) -> None:
        was_online = self.bot.relay.online
        self.bot.relay.heartbeat(metrics)
        if self.bot.web_relay is not None and self.bot.relay.online != was_online:
            self.bot.web_relay.availability_changed()  # web chats may use it from now on
        now = time.monotonic()
        interval = self.bot.settings.metrics_interval_seconds
        if self._metrics_saved is not None and now - self._metrics_saved < interval:
            return
        self._metrics_saved = now
        await store_worker_metric(
            self.bot.services.sessions,
            worker_id=f"discord-{self.bot.client_bot_id}",
            busy=False,
            metrics=metrics,
        )
