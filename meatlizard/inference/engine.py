"""The inference-engine interface shared by the web process and the client-bot."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Turn:
    """One message of the conversation as the model sees it."""

    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class GenerationRequest:
    """Everything an engine needs to answer."""

    messages: list[Turn]
    temperature: float = 0.7
    max_tokens: int = 512
    # The rest as llama-cpp-python's create_chat_completion defaults them.
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    seed: int | None = None  # None: a fresh random seed per answer
    stop: tuple[str, ...] = ()


@dataclass
class GenerationStats:
    """Measured while an answer streams."""

    token_count: int = 0
    prompt_tokens: int = 0  # as counted by the engine's tokenizer, template markers estimated
    seconds: float = 0.0
    time_to_first_token: float | None = None
    stopped: bool = False
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.token_count / self.seconds if self.seconds > 0 else 0.0


class InferenceError(Exception):
    """The engine failed to produce an answer."""

    # True when the message is meant for the user as is (else a generic one is shown).
    user_facing = False


class InferenceEngine(abc.ABC):
    """Streams an answer for a conversation, stopping promptly when asked to."""

    is_fallback: bool = False
    alias: str = ""
    context_window: int = 2048

    @abc.abstractmethod
    def stream(
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        """Yield text pieces as they are generated; fill `stats` as it goes."""

    @abc.abstractmethod
    def count_tokens(self, text: str) -> int:
        """Return how many tokens `text` takes in this engine's vocabulary (inside lease())."""

    async def wait_idle(self) -> None:  # noqa: B027 - engines without leases are always idle
        """Return once no answer is being written (a model in use must not be freed)."""

    def lease(self) -> AbstractAsyncContextManager[None]:
        """Keep the engine ready (its model loaded) for the duration of the block."""
        return nullcontext()

    async def close(self) -> None:  # noqa: B027 - engines without resources need not override
        """Release the model."""
