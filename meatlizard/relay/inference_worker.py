"""The client-bot's Redis worker: requests answered by its local engines, sealed end to end."""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel

from meatlizard.inference.engine import InferenceEngine
from meatlizard.inference.scheduler import FairScheduler
from meatlizard.relay.answering import answer_request
from meatlizard.relay.gpu import read_gpu_stats
from meatlizard.relay.redis_worker import Emit, StreamWorker
from meatlizard.relay.wire import ClientMetricsPayload, PayloadSealer, RequestPayload


class InferenceWorker(StreamWorker):
    """One client-bot process answering with its local engines, sealed end to end."""

    def __init__(
        self,
        *,
        redis_url: str,
        sealer: PayloadSealer,
        engines: dict[str, InferenceEngine],
        default_alias: str,
        worker_id: str,
        slots: int = 1,
    ) -> None:
        super().__init__(redis_url=redis_url, sealer=sealer, worker_id=worker_id, slots=slots)
        self.engines = engines
        self.default_alias = default_alias
        self._scheduler = FairScheduler(slots)

    @property
    def aliases(self) -> list[str]:
        return list(self.engines)

    async def metrics(self) -> ClientMetricsPayload:
        return ClientMetricsPayload(
            timestamp=time.time(),
            gpu_stats=await read_gpu_stats(),
            tokens_per_second=self.state.last_tokens_per_second,
            is_online=True,
        )

    async def answer(self, request: RequestPayload, *, cancel: asyncio.Event, emit: Emit) -> None:
        async def send(payload: BaseModel) -> None:
            await emit(self.sealer.seal(payload))

        stats = await answer_request(
            request,
            engines=self.engines,
            default_alias=self.default_alias,
            scheduler=self._scheduler,
            cancel=cancel,
            send=send,
        )
        if stats is not None:
            self.state.last_tokens_per_second = stats.tokens_per_second
