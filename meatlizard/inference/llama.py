"""llama.cpp engine: many answers of one model decoded together (continuous batching).

With a keep-alive the model is loaded for the first answer and freed again after that many
idle seconds (as Ollama's `keep_alive` does), so an idle server holds no model in memory;
at start only the file's GGUF header is checked. Without one it is loaded at once and kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

from meatlizard.inference.batcher import Batcher, Ended, Sequence
from meatlizard.inference.engine import GenerationRequest, GenerationStats
from meatlizard.inference.gguf import load_failure
from meatlizard.inference.keep_alive import KeepAliveEngine
from meatlizard.inference.threads import default_threads
from meatlizard.inference.vocab import Vocabulary


class LlamaEngine(KeepAliveEngine[Batcher]):
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
        """Check the file; load the model now unless a keep-alive is given."""
        super().__init__(
            alias,
            model_path,
            n_ctx=n_ctx,
            parallel=parallel,
            keep_alive_seconds=keep_alive_seconds,
        )
        self._options = {
            "n_ctx_seq": n_ctx,
            "parallel": parallel,
            "n_threads": n_threads or default_threads(),
            "n_gpu_layers": n_gpu_layers,
        }
        if keep_alive_seconds is None:
            self._handle = self._open()

    def _open(self) -> Batcher:
        # Imported lazily: it loads a native library.
        from meatlizard.inference.native import NativeModel

        try:
            model = NativeModel(self._path, **self._options)
        except (ValueError, RuntimeError, OSError) as exc:
            raise load_failure(self.alias, self._path, exc) from exc
        self.context_window = model.n_ctx_seq
        return Batcher(model)

    async def _load(self) -> Batcher:
        return await asyncio.to_thread(self._open)

    async def _free(self, handle: Batcher) -> None:
        await asyncio.to_thread(_close, handle)

    def _vocabulary(self, handle: Batcher) -> Vocabulary:
        return handle.model

    async def stream(
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        started = time.perf_counter()
        async with self.lease():
            assert self._handle is not None
            prompt = self._handle.model.format(request.messages)
            seq = Sequence(
                prompt.tokens,
                request,
                request.stop + prompt.stop,
                queue.put_nowait,
                loop,
            )
            self._handle.submit(seq)
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


def _close(batcher: Batcher) -> None:
    batcher.close()
    batcher.model.close()


async def _forward_cancel(cancel: asyncio.Event, seq: Sequence) -> None:
    await cancel.wait()
    seq.cancelled = True
