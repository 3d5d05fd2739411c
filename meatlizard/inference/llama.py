"""llama.cpp engine (llama-cpp-python), streaming tokens from a worker thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from meatlizard.inference.engine import (
    GenerationRequest,
    GenerationStats,
    InferenceEngine,
    InferenceError,
)

_DONE = object()


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
    ) -> None:
        from llama_cpp import Llama  # imported lazily: it loads a native library

        self.alias = alias
        self.context_window = n_ctx
        try:
            self._llama = Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_gpu_layers=n_gpu_layers,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise InferenceError(f"cannot load model {alias!r} from {model_path}: {exc}") from exc

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode(), add_bos=False, special=True))

    async def stream(
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()
        started = time.perf_counter()

        def _put(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def _generate() -> None:
            try:
                chunks: Any = self._llama.create_chat_completion(
                    messages=[{"role": t.role, "content": t.content} for t in request.messages],  # type: ignore[misc]
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

        cancel_watch = asyncio.create_task(_forward_cancel(cancel, stop))
        worker = loop.run_in_executor(None, _generate)
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
        close = getattr(self._llama, "close", None)
        if close is not None:
            await asyncio.to_thread(close)


async def _forward_cancel(cancel: asyncio.Event, stop: threading.Event) -> None:
    await cancel.wait()
    stop.set()
