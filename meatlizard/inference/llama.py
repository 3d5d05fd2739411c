"""llama.cpp engine (llama-cpp-python), streaming tokens from a worker thread.

With a keep-alive the model is loaded for the first answer and freed again after that many
idle seconds (as Ollama's `keep_alive` does), so an idle server holds no model in memory;
at start only the file's GGUF header is checked. Without one it is loaded at once and kept.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from meatlizard.core.metrics import MODEL_LOADED
from meatlizard.inference.engine import (
    GenerationRequest,
    GenerationStats,
    InferenceEngine,
    InferenceError,
)

_DONE = object()
GGUF_MAGIC = b"GGUF"


class LlamaEngine(InferenceEngine):
    """Runs a GGUF model in process; generation happens on a thread, tokens flow to asyncio."""

    def __init__(
        self,
        alias: str,
        model_path: Path,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        keep_alive_seconds: float | None = None,
    ) -> None:
        """Check the file; load the model now unless a keep-alive is given."""
        self.alias = alias
        self.context_window = n_ctx
        self.keep_alive_seconds = keep_alive_seconds
        self._path = model_path
        self._options: dict[str, Any] = {
            "n_ctx": n_ctx,
            "n_threads": n_threads,
            "n_gpu_layers": n_gpu_layers,
        }
        self._check_header()
        self._llama: Any = None if keep_alive_seconds is not None else self._open()
        MODEL_LOADED.labels(model=alias).set_function(lambda: float(self.loaded))
        self._users = 0
        self._lock: asyncio.Lock | None = None
        self._unload_timer: asyncio.TimerHandle | None = None
        self._unloading: asyncio.Task[None] | None = None

    def _failure(self, reason: object) -> InferenceError:
        return InferenceError(f"cannot load model {self.alias!r} from {self._path}: {reason}")

    def _check_header(self) -> None:
        try:
            with self._path.open("rb") as handle:
                magic = handle.read(len(GGUF_MAGIC))
        except OSError as exc:
            raise self._failure(exc) from exc
        if magic != GGUF_MAGIC:
            raise self._failure("not a GGUF file")

    def _open(self) -> Any:
        from llama_cpp import Llama  # imported lazily: it loads a native library

        try:
            return Llama(model_path=str(self._path), verbose=False, **self._options)
        except (ValueError, RuntimeError, OSError) as exc:
            raise self._failure(exc) from exc

    @property
    def loaded(self) -> bool:
        """Say whether the model is in memory now."""
        return self._llama is not None

    def count_tokens(self, text: str) -> int:
        if self._llama is None:
            raise InferenceError(f"model {self.alias!r} is not loaded: count inside lease()")
        return len(self._llama.tokenize(text.encode(), add_bos=False, special=True))

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[None]:
        """Keep the model loaded for the block; start the idle clock when the last one ends."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        self._users += 1
        if self._unload_timer is not None:
            self._unload_timer.cancel()
            self._unload_timer = None
        try:
            async with self._lock:  # also waits for an unload under way
                if self._llama is None:
                    self._llama = await asyncio.to_thread(self._open)
            yield
        finally:
            self._users -= 1
            if self._users == 0 and self.keep_alive_seconds is not None:
                loop = asyncio.get_running_loop()
                self._unload_timer = loop.call_later(self.keep_alive_seconds, self._unload_soon)

    def _unload_soon(self) -> None:
        self._unload_timer = None
        self._unloading = asyncio.create_task(self._unload())

    async def _unload(self) -> None:
        assert self._lock is not None
        async with self._lock:
            if self._users or self._llama is None:
                return
            llama, self._llama = self._llama, None
            await asyncio.to_thread(llama.close)

    async def stream(
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()
        started = time.perf_counter()

        def _put(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def _generate(llama: Any) -> None:
            try:
                chunks: Any = llama.create_chat_completion(
                    messages=[{"role": t.role, "content": t.content} for t in request.messages],
                    temperature=request.temperature,
                    max_tokens=request.max_tokens,
                    stream=True,
                )
                for chunk in chunks:
                    if stop.is_set():
                        chunks.close()  # ends llama.cpp's sampling loop right here
                        break
                    delta = chunk["choices"][0]["delta"].get("content")
                    if delta:
                        _put(delta)
            except Exception as exc:
                _put(InferenceError(str(exc)))
            finally:
                _put(_DONE)

        async with self.lease():
            cancel_watch = asyncio.create_task(_forward_cancel(cancel, stop))
            worker = loop.run_in_executor(None, _generate, self._llama)
            try:
                while True:
                    item = await queue.get()
                    if item is _DONE:
                        break
                    if isinstance(item, InferenceError):
                        raise item
                    if stats.time_to_first_token is None:
                        stats.time_to_first_token = time.perf_counter() - started
                    stats.token_count += 1
                    yield str(item)
            finally:
                stop.set()
                cancel_watch.cancel()
                # Hold the model until the thread has really left llama.cpp.
                await asyncio.shield(worker)
                stats.seconds = time.perf_counter() - started
                stats.stopped = cancel.is_set()

    async def close(self) -> None:
        """Free the model."""
        if self._unload_timer is not None:
            self._unload_timer.cancel()
        if self._unloading is not None:
            await self._unloading
        llama, self._llama = self._llama, None
        if llama is not None:
            await asyncio.to_thread(llama.close)


async def _forward_cancel(cancel: asyncio.Event, stop: threading.Event) -> None:
    await cancel.wait()
    stop.set()
