"""llama.cpp engine: many answers of one model decoded together (continuous batching).

With a keep-alive the model is loaded for the first answer and freed again after that many
idle seconds (as Ollama's `keep_alive` does), so an idle server holds no model in memory;
at start only the file's GGUF header is checked. Without one it is loaded at once and kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from meatlizard.core.metrics import MODEL_LOADED
from meatlizard.inference.batcher import Batcher, Ended, Sequence
from meatlizard.inference.engine import (
    GenerationRequest,
    GenerationStats,
    InferenceEngine,
    InferenceError,
)
from meatlizard.inference.threads import default_threads

GGUF_MAGIC = b"GGUF"


class LlamaEngine(InferenceEngine):
    """Runs a GGUF model in process: one batch thread decodes every answer at once."""

    def __init__(
        self,
        alias: str,
        model_path: Path,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        keep_alive_seconds: float | None = None,
        parallel: int = 1,
    ) -> None:
        """Check the file; load the model now unless a keep-alive is given.

        `n_ctx` is each answer's window; the model holds `parallel` of them at once.
        """
        self.alias = alias
        self.context_window = n_ctx
        self.parallel = parallel
        self.keep_alive_seconds = keep_alive_seconds
        self._path = model_path
        self._options = {
            "n_ctx_seq": n_ctx,
            "parallel": parallel,
            "n_threads": n_threads or default_threads(),
            "n_gpu_layers": n_gpu_layers,
        }
        self._check_header()
        self._llama: Batcher | None = None if keep_alive_seconds is not None else self._open()
        MODEL_LOADED.labels(model=alias).set_function(lambda: float(self.loaded))
        self._users = 0
        self._idle = asyncio.Event()  # set while no lease is held
        self._idle.set()
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

    def _open(self) -> Batcher:
        # Imported lazily: it loads a native library.
        from meatlizard.inference.native import NativeModel

        try:
            model = NativeModel(self._path, **self._options)
        except (ValueError, RuntimeError, OSError) as exc:
            raise self._failure(exc) from exc
        self.context_window = model.n_ctx_seq
        return Batcher(model)

    @property
    def loaded(self) -> bool:
        """Say whether the model is in memory now."""
        return self._llama is not None

    async def wait_idle(self) -> None:
        await self._idle.wait()

    def count_tokens(self, text: str) -> int:
        if self._llama is None:
            raise InferenceError(f"model {self.alias!r} is not loaded: count inside lease()")
        return len(self._llama.model.tokenize(text, add_bos=False))

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
                if self._llama is None:
                    self._llama = await asyncio.to_thread(self._open)
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
            if self._users or self._llama is None:
                return
            # `loaded` stays true until the memory is really given back.
            await asyncio.to_thread(_close, self._llama)
            self._llama = None

    async def stream(
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        started = time.perf_counter()
        async with self.lease():
            assert self._llama is not None
            prompt = self._llama.model.format(request.messages)
            seq = Sequence(
                prompt.tokens,
                request,
                request.stop + prompt.stop,
                queue.put_nowait,
                loop,
            )
            self._llama.submit(seq)
            cancel_watch = asyncio.create_task(_forward_cancel(cancel, seq))
            ended: Ended | None = None
            generated = 0
            try:
                while not cancel.is_set():
                    item = await queue.get()
                    if isinstance(item, Ended):
                        ended = item
                        if item.error is not None:
                            raise item.error
                        if item.tail:
                            stats.token_count += 1
                            yield item.tail
                        break
                    generated += 1
                    if item:  # empty while a character or a possible stop string is incomplete
                        if stats.time_to_first_token is None:
                            stats.time_to_first_token = time.perf_counter() - started
                        stats.token_count += 1
                        yield str(item)
            finally:
                seq.cancelled = True
                cancel_watch.cancel()
                # Hold the model until the batch has let go of this answer (within one step).
                while ended is None:
                    item = await asyncio.shield(queue.get())
                    ended = item if isinstance(item, Ended) else None
                stats.seconds = time.perf_counter() - started
                stats.stopped = cancel.is_set()
                stats.extra["generated_tokens"] = float(generated)
                stats.extra["prompt_tokens"] = float(ended.prompt_tokens)
                stats.extra["reused_prompt_tokens"] = float(ended.reused_tokens)

    async def close(self) -> None:
        """Free the model."""
        if self._unload_timer is not None:
            self._unload_timer.cancel()
        if self._unloading is not None:
            await self._unloading
        llama, self._llama = self._llama, None
        if llama is not None:
            await asyncio.to_thread(_close, llama)


def _close(batcher: Batcher) -> None:
    batcher.close()
    batcher.model.close()


async def _forward_cancel(cancel: asyncio.Event, seq: Sequence) -> None:
    await cancel.wait()
    seq.cancelled = True
