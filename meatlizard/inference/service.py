"""The inference gateway the chat uses, and its in-process implementation.

The gateway answers "who would answer right now" and streams an answer for a whole
conversation; the engine that answers trims the conversation to its own context window.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from meatlizard.inference.context import TEMPLATE_TOKENS_PER_TURN, Conversation, fit_context
from meatlizard.inference.engine import GenerationStats, InferenceEngine, InferenceError
from meatlizard.inference.loading import ModelConfig, changed, in_background, load_engine, retire
from meatlizard.inference.markov import MarkovEngine
from meatlizard.inference.scheduler import FairScheduler, QueueListener

log = logging.getLogger(__name__)


class EngineState(enum.StrEnum):
    """Where the in-process model stands."""

    LOADING = "loading"
    READY = "ready"
    FALLBACK = "fallback"  # no model could be loaded (or none configured)


@dataclass(frozen=True)
class Answerer:
    """Who will answer the next request for a model alias."""

    alias: str
    is_fallback: bool


class InferenceGateway(abc.ABC):
    """Where chat sends conversations: in process, or to remote workers."""

    default_alias: str

    @property
    @abc.abstractmethod
    def aliases(self) -> list[str]:
        """Return the aliases a session may name."""

    @abc.abstractmethod
    def status(self) -> dict[str, object]:
        """Describe the inference state for /readyz and the UI."""

    @abc.abstractmethod
    def answerer(self, alias: str | None) -> Answerer:
        """Say which engine would answer for this alias right now."""

    @abc.abstractmethod
    def generate(
        self,
        conversation: Conversation,
        *,
        alias: str | None,
        owner: str,
        cancel: asyncio.Event,
        stats: GenerationStats,
        on_queued: QueueListener | None = None,
    ) -> AsyncIterator[str]:
        """Stream the answer to a conversation; stop promptly when `cancel` is set.

        While every slot is taken, `on_queued` hears how many requests are ahead.
        """

    def start(self) -> None:  # noqa: B027 - gateways without background work need nothing
        """Begin background work (loading models, listening for workers)."""

    async def close(self) -> None:  # noqa: B027
        """Stop background work and free resources."""


async def stream_with_engine(
    engine: InferenceEngine,
    scheduler: FairScheduler,
    conversation: Conversation,
    *,
    owner: str,
    cancel: asyncio.Event,
    stats: GenerationStats,
    on_queued: QueueListener | None = None,
) -> AsyncIterator[str]:
    """Wait for a fair turn on the engine, fit the conversation to it, stream the answer."""
    async with engine.lease():
        request = fit_context(
            conversation, count_tokens=engine.count_tokens, context_window=engine.context_window
        )
        stats.prompt_tokens = sum(
            engine.count_tokens(t.content) + TEMPLATE_TOKENS_PER_TURN for t in request.messages
        )
        async with scheduler.slot(owner, on_queued):
            if cancel.is_set():
                return
            stream = engine.stream(request, cancel, stats)
            try:
                async for piece in stream:
                    yield piece
            finally:
                await stream.aclose()  # type: ignore[attr-defined]


class LocalInference(InferenceGateway):
    """Owns the loaded engines and serialises generations per model, fairly across users."""

    def __init__(self, models: list[ModelConfig], default_alias: str) -> None:
        self._configs = {m.alias: m for m in models}
        self.default_alias = default_alias
        self._engines: dict[str, InferenceEngine] = {}
        self._schedulers: dict[str, FairScheduler] = {}
        self._errors: dict[str, str] = {}
        self._load_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # models loading or retiring meanwhile
        self.fallback = MarkovEngine()
        self._fallback_scheduler = FairScheduler()

    @property
    def aliases(self) -> list[str]:
        """Return the aliases a session may name (the default one even when none is loaded)."""
        return sorted(self._configs) or [self.default_alias]

    @property
    def state(self) -> EngineState:
        if self._engines:
            return EngineState.READY
        if self._load_task is not None and not self._load_task.done():
            return EngineState.LOADING
        return EngineState.FALLBACK

    def status(self) -> dict[str, object]:
        """Describe the engines for /readyz and the UI."""
        return {
            "state": self.state.value,
            "models": {
                alias: "ready" if alias in self._engines else self._errors.get(alias, "loading")
                for alias in sorted(self._configs)
            },
            # Aliases whose weights are in memory now; the others load for their next answer.
            "in_memory": sorted(a for a, e in self._engines.items() if getattr(e, "loaded", True)),
            "default_model": self.default_alias,
            "queue_depth": sum(s.queue_depth for s in self._schedulers.values()),
            "free_slots": sum(s.free for s in self._schedulers.values()),
        }

    def start_loading(self) -> None:
        """Load every model in the background so the web server is up at once."""
        if self._configs and self._load_task is None:
            self._load_task = asyncio.create_task(self._load_all())

    async def wait_loaded(self) -> None:
        """Wait until loading has finished (successfully or not)."""
        if self._load_task is not None:
            await asyncio.shield(self._load_task)

    async def _load_all(self) -> None:
        for config in list(self._configs.values()):
            await self._load(config)

    async def _load(self, config: ModelConfig) -> None:
        try:
            engine = await load_engine(config)
        except InferenceError as exc:
            self._errors[config.alias] = str(exc)
            log.error("model failed to load; the Markov fallback answers instead: %s", exc)
            return
        if self._configs.get(config.alias) is not config:  # removed while it loaded
            await engine.close()
            return
        self._engines[config.alias] = engine
        self._schedulers[config.alias] = FairScheduler(config.parallel)
        log.info("model %s loaded from %s", config.alias, config.path)

    async def serve_models(self, configs: dict[str, ModelConfig], default_alias: str) -> None:
        """Serve these models from now on: load the new ones, retire those no longer listed.

        A retired model answers what it is writing and is freed after; new answers name only
        the models served now.
        """
        self.default_alias = default_alias
        for alias in changed(self._configs, configs):
            del self._configs[alias]
            self._errors.pop(alias, None)
            self._schedulers.pop(alias, None)
            engine = self._engines.pop(alias, None)
            if engine is not None:
                retire(alias, engine, self._tasks)
        for alias, config in configs.items():
            if alias not in self._configs:
                self._configs[alias] = config
                in_background(self._load(config), f"load-{alias}", self._tasks)

    def engine_for(self, alias: str | None) -> InferenceEngine:
        """Return the engine that would answer for this alias right now."""
        return self._engines.get(alias or self.default_alias) or self.fallback

    def scheduler_for(self, alias: str | None) -> FairScheduler:
        """Return the slots of the engine that would answer for this alias."""
        engine = self.engine_for(alias)
        return self._schedulers.get(engine.alias, self._fallback_scheduler)

    def answerer(self, alias: str | None) -> Answerer:
        engine = self.engine_for(alias)
        return Answerer(engine.alias, engine.is_fallback)

    def generate(
        self,
        conversation: Conversation,
        *,
        alias: str | None,
        owner: str,
        cancel: asyncio.Event,
        stats: GenerationStats,
        on_queued: QueueListener | None = None,
    ) -> AsyncIterator[str]:
        engine = self.engine_for(alias)
        scheduler = self.scheduler_for(alias)
        return stream_with_engine(
            engine,
            scheduler,
            conversation,
            owner=owner,
            cancel=cancel,
            stats=stats,
            on_queued=on_queued,
        )

    def start(self) -> None:
        self.start_loading()

    async def close(self) -> None:
        """Stop loading and free the models."""
        for task in [self._load_task, *self._tasks]:
            if task is not None:
                task.cancel()
        for engine in self._engines.values():
            await engine.close()
        self._engines.clear()
