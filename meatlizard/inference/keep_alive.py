"""Engines whose model loads for the first answer and is freed after a keep-alive.

As Ollama's `keep_alive`: an idle server holds no model in memory. The handle is whatever
holds the model (an in-process context, a llama-server subprocess).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from meatlizard.core.metrics import MODEL_LOADED
from meatlizard.inference.engine import InferenceEngine, InferenceError
from meatlizard.inference.gguf import check_gguf

if TYPE_CHECKING:
    from meatlizard.inference.vocab import Vocabulary

Handle = TypeVar("Handle")


class KeepAliveEngine(InferenceEngine, Generic[Handle]):
    """Loads the model on the first lease; frees it `keep_alive_seconds` after the last one."""

    def __init__(
        self,
        alias: str,
        model_path: Path,
        *,
        n_ctx: int,
        parallel: int,
        keep_alive_seconds: float | None,
    ) -> None:
        """Refuse a file that is not GGUF at once; nothing is loaded yet.

        `n_ctx` is each answer's window; the model holds `parallel` of them at once.
        """
        check_gguf(alias, model_path)
        self.alias = alias
        self.context_window = n_ctx
        self.parallel = parallel
        self.keep_alive_seconds = keep_alive_seconds
        self._path = model_path
        self._handle: Handle | None = None
        self._users = 0
        self._idle = asyncio.Event()  # set while no lease is held
        self._idle.set()
        self._lock: asyncio.Lock | None = None
        self._unload_timer: asyncio.TimerHandle | None = None
        self._unloading: asyncio.Task[None] | None = None
        MODEL_LOADED.labels(model=alias).set_function(lambda: float(self.loaded))

    @abc.abstractmethod
    async def _load(self) -> Handle:
        """Load the model; InferenceError if it cannot be."""

    @abc.abstractmethod
    async def _free(self, handle: Handle) -> None:
        """Give the model's memory back."""

    @abc.abstractmethod
    def _vocabulary(self, handle: Handle) -> Vocabulary:
        """Return the loaded model's tokenizer and chat template."""

    def count_tokens(self, text: str) -> int:
        if self._handle is None:
            raise InferenceError(f"model {self.alias!r} is not loaded: count inside lease()")
        return len(self._vocabulary(self._handle).tokenize(text, add_bos=False))

    def _usable(self, handle: Handle) -> bool:
        """Say whether a loaded model can still answer (False: it is loaded again)."""
        return True

    @property
    def loaded(self) -> bool:
        """Say whether the model is in memory now."""
        return self._handle is not None

    async def wait_idle(self) -> None:
        await self._idle.wait()

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[None]:
        """Keep the model loaded for the block; start the idle clock when the last one ends."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        self._users += 1
        self._idle.clear()
        if self._unload_timer is not None:
            self._unload_timer.cancel()
            self._unload_timer = None
        try:
            async with self._lock:  # also waits for an unload under way
                if self._handle is not None and not self._usable(self._handle):
                    handle, self._handle = self._handle, None
                    await self._free(handle)
                if self._handle is None:
                    self._handle = await self._load()
            yield
        finally:
            self._users -= 1
            if self._users == 0:
                self._idle.set()
            if self._users == 0 and self.keep_alive_seconds is not None:
                loop = asyncio.get_running_loop()
                self._unload_timer = loop.call_later(self.keep_alive_seconds, self._unload_soon)

    def _unload_soon(self) -> None:
        self._unload_timer = None
        self._unloading = asyncio.create_task(self._unload())

    async def _unload(self) -> None:
        assert self._lock is not None
        async with self._lock:
            if self._users or self._handle is None:
                return
            # `loaded` stays true until the memory is really given back.
            await self._free(self._handle)
            self._handle = None

    async def close(self) -> None:
        """Free the model."""
        if self._unload_timer is not None:
            self._unload_timer.cancel()
        if self._unloading is not None:
            await self._unloading
        handle, self._handle = self._handle, None
        if handle is not None:
            await self._free(handle)
