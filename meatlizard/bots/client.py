"""The client-bot over Discord: sealed requests in relay channels, sealed streamed replies out.

It answers in the channel the request came from: #ai-relay, or a web chat's audit channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import discord
from pydantic import BaseModel

from meatlizard.bots import GUILD_READY_TIMEOUT_S, frames
from meatlizard.bots.answer_log import Answer, AnswerLog
from meatlizard.bots.chunk_merge import MergedReplies
from meatlizard.bots.frames import RelayOutbox
from meatlizard.bots.server.channels import METRICS_CHANNEL
from meatlizard.inference.engine import InferenceEngine
from meatlizard.inference.scheduler import FairScheduler
from meatlizard.relay.answering import answer_request
from meatlizard.relay.gpu import read_gpu_stats
from meatlizard.relay.wire import (
    CancelPayload,
    ClientMetricsPayload,
    EnvelopeError,
    PayloadSealer,
    RequestPayload,
)

log = logging.getLogger(__name__)


class ClientBot(discord.Client):
    """Answers the server-bot's requests with the local engines; posts metrics as heartbeat."""

    def __init__(
        self,
        *,
        sealer: PayloadSealer,
        engines: dict[str, InferenceEngine],
        default_alias: str,
        server_bot_id: int,
        guild_id: int,
        heartbeat_seconds: float,
        metrics_channel_id: int | None = None,
        slots: int = 1,
        guild_ready_timeout: float = GUILD_READY_TIMEOUT_S,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=guild_ready_timeout)
        self.sealer = sealer
        self.engines = engines
        self.default_alias = default_alias
        self.server_bot_id = server_bot_id
        self.guild_id = guild_id
        self.heartbeat_seconds = heartbeat_seconds
        self.metrics_channel_id = metrics_channel_id
        self.outbox = RelayOutbox()
        self.ignored = 0
        self._scheduler = FairScheduler(slots)  # answers the engines decode at once
        self._cancels: dict[str, asyncio.Event] = {}
        self.answers = AnswerLog()
        self.duplicates = 0  # requests ignored because that very post was seen already
        self.resumed = 0  # requests posted again after a take-over, answered by resending
        self._answers: set[asyncio.Task[None]] = set()
        self._tokens_per_second = 0.0
        self._heartbeat: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        self._heartbeat = asyncio.create_task(self._heartbeat_loop())

    async def on_message(self, message: discord.Message) -> None:
        if self.user is not None and message.author.id == self.user.id:
            return
        if not frames.is_relay(message):
            return
        if message.author.id != self.server_bot_id or not self._in_home_guild(message):
            self.ignored += 1
            log.warning(
                "ignoring relay message %s from %s: not the server-bot in our guild",
                message.id,
                message.author.id,
            )
            return
        for envelope in await frames.envelopes_of(message):
            try:
                payload = await self.sealer.open(
                    envelope, scope="discord-request", token=str(message.id)
                )
            except EnvelopeError as exc:
                self.ignored += 1
                log.warning("ignoring a payload in message %s: %s", message.id, exc)
                continue
            if isinstance(payload, RequestPayload):
                self._start(message.channel, payload)
            elif isinstance(payload, CancelPayload):
                event = self._cancels.get(payload.request_id)
                if event is not None:
                    event.set()

    def _in_home_guild(self, message: discord.Message) -> bool:
        return message.guild is not None and message.guild.id == self.guild_id

    def _start(self, channel: discord.abc.Messageable, request: RequestPayload) -> None:
        answer = self.answers.get(request.request_id)
        if answer is None:
            answer = self.answers.add(request, channel)
            task = asyncio.create_task(self._answer(answer))
            self._answers.add(task)
            task.add_done_callback(self._answers.discard)
        elif request.attempt in answer.attempts:
            self.duplicates += 1  # Discord delivered the same post twice
            log.info("ignoring request %s attempt %d: seen", request.request_id, request.attempt)
        else:
            # Posted again by a server-bot that took the request over: resend what was sent
            # (in one go, so that replies still being generated follow in order) and go on.
            self.resumed += 1
            answer.attempts.add(request.attempt)
            answer.channel = channel
            for payload in answer.sent():
                self.outbox.put(channel, self.sealer.seal(payload))

    async def _answer(self, answer: Answer) -> None:
        request = answer.request
        cancel = self._cancels[request.request_id] = asyncio.Event()
        replies = MergedReplies(answer, sealer=self.sealer, outbox=self.outbox)

        async def send(payload: BaseModel) -> None:
            replies.send(payload)

        try:
            stats = await answer_request(
                request,
                engines=self.engines,
                default_alias=self.default_alias,
                scheduler=self._scheduler,
                cancel=cancel,
                send=send,
            )
        finally:
            self._cancels.pop(request.request_id, None)
        if stats is not None:
            self._tokens_per_second = stats.tokens_per_second

    async def _metrics_channel(self) -> discord.abc.Messageable | None:
        if self.metrics_channel_id is not None:
            found = self.get_channel(self.metrics_channel_id)
            return found if isinstance(found, discord.TextChannel) else None
        guild = self.get_guild(self.guild_id)
        found = discord.utils.get(guild.text_channels, name=METRICS_CHANNEL) if guild else None
        if found is not None:
            self.metrics_channel_id = found.id
        return found

    async def post_metrics(self, *, online: bool = True) -> bool:
        """Post sealed metrics to #ai-metrics; return False while that channel does not exist."""
        channel = await self._metrics_channel()
        if channel is None:
            return False
        metrics = ClientMetricsPayload(
            timestamp=time.time(),
            gpu_stats=await read_gpu_stats(),
            tokens_per_second=self._tokens_per_second,
            is_online=online,
        )
        self.outbox.put(channel, self.sealer.seal(metrics))
        return True

    async def _heartbeat_loop(self) -> None:
        await self.wait_until_ready()
        while not self.is_closed():
            try:
                await self.post_metrics()
            except discord.HTTPException as exc:
                log.warning("metrics post failed: %s", exc)
            await asyncio.sleep(self.heartbeat_seconds)

    async def close(self) -> None:
        """Say goodbye in #ai-metrics, finish sending, disconnect."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        for task in list(self._answers):
            task.cancel()
        with contextlib.suppress(Exception):
            if self.is_ready():
                await self.post_metrics(online=False)
        await self.outbox.close()
        await super().close()
