"""The model run by llama.cpp's own server (a managed subprocess), streamed over its HTTP API.

Measured beside the in-process engine (bench/RESULTS.md): llama-server decodes a batch of
answers faster than llama.cpp driven from our web process, and a Python web tier in front of it
keeps almost all of that. The conversation is still ours: rendered by the model's chat
template and tokenized here (the vocabulary alone is loaded), sent as token ids, so templates,
stop strings and context fitting do not depend on the server's version.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from meatlizard.inference.engine import GenerationRequest, GenerationStats, InferenceError
from meatlizard.inference.gguf import load_failure
from meatlizard.inference.keep_alive import KeepAliveEngine
from meatlizard.inference.llama_server import LlamaServer, ServerOptions
from meatlizard.inference.vocab import Vocabulary


@dataclass
class Running:
    """A started server and the vocabulary that speaks to it."""

    server: LlamaServer
    vocab: Vocabulary
    client: httpx.AsyncClient


@dataclass(frozen=True)
class _Ended:
    error: InferenceError | None = None
    timings: dict[str, Any] | None = None


_CANCELLED = object()


class ServerEngine(KeepAliveEngine[Running]):
    """Streams answers from a llama-server that this engine starts, watches and stops."""

    def __init__(
        self,
        alias: str,
        model_path: Path,
        binary: Path,
        *,
        n_ctx: int = 2048,
        n_threads: int,
        n_gpu_layers: int = 0,
        keep_alive_seconds: float | None = None,
        parallel: int = 1,
    ) -> None:
        """Check the file; the server starts with the first answer (or at `start()`)."""
        super().__init__(
            alias,
            model_path,
            n_ctx=n_ctx,
            parallel=parallel,
            keep_alive_seconds=keep_alive_seconds,
        )
        self._options = ServerOptions(binary, model_path, parallel, n_ctx, n_threads, n_gpu_layers)

    async def start(self) -> None:
        """Load the model now and keep it (no keep-alive): `make run`'s first answer is quick."""
        async with self.lease():
            pass

    @property
    def server(self) -> LlamaServer | None:
        """Return the running server, if any (its build for `client-bot --check`)."""
        return self._handle.server if self._handle is not None else None

    async def _load(self) -> Running:
        try:
            vocab = await asyncio.to_thread(Vocabulary.open, self._path)
        except (ValueError, RuntimeError, OSError) as exc:
            raise load_failure(self.alias, self._path, exc) from exc
        server = LlamaServer(self._options, self.alias)
        try:
            await server.start()
        except InferenceError as exc:
            vocab.close()
            raise load_failure(self.alias, self._path, exc) from exc
        # No read timeout: a long prompt's first token can take a while; Stop closes the stream.
        client = server.client(httpx.Timeout(10.0, read=None), connections=self.parallel * 2)
        return Running(server, vocab, client)

    async def _free(self, handle: Running) -> None:
        await handle.client.aclose()
        await handle.server.stop()
        handle.vocab.close()

    def _usable(self, handle: Running) -> bool:
        return handle.server.running  # a crashed server is started again for the next answer

    def _vocabulary(self, handle: Running) -> Vocabulary:
        return handle.vocab

    async def stream(
        self, request: GenerationRequest, cancel: asyncio.Event, stats: GenerationStats
    ) -> AsyncIterator[str]:
        started = time.perf_counter()
        async with self.lease():
            assert self._handle is not None
            running = self._handle
            prompt = running.vocab.format(request.messages)
            body = completion_body(prompt.tokens, request, request.stop + prompt.stop)
            queue: asyncio.Queue[object] = asyncio.Queue()
            pump = asyncio.create_task(_pump(running, body, queue))
            watch = asyncio.create_task(_on_cancel(cancel, queue))
            ended = _Ended()
            try:
                while not cancel.is_set():
                    item = await queue.get()
                    if item is _CANCELLED:
                        break
                    if isinstance(item, _Ended):
                        ended = item
                        if item.error is not None:
                            raise item.error
                        break
                    if stats.time_to_first_token is None:
                        stats.time_to_first_token = time.perf_counter() - started
                    stats.token_count += 1
                    yield str(item)
            finally:
                # Closing the stream tells llama-server to free the answer's slot.
                pump.cancel()
                watch.cancel()
                await asyncio.gather(pump, watch, return_exceptions=True)
                timings = ended.timings or {}
                stats.seconds = time.perf_counter() - started
                stats.stopped = cancel.is_set()
                # A stopped answer has no timings: count what arrived.
                generated = timings.get("predicted_n", stats.token_count)
                stats.extra["generated_tokens"] = float(generated)
                reused = float(timings.get("cache_n", 0))
                stats.extra["prompt_tokens"] = reused + float(timings.get("prompt_n", 0))
                stats.extra["reused_prompt_tokens"] = reused


def completion_body(
    tokens: list[int], request: GenerationRequest, stop: tuple[str, ...]
) -> dict[str, Any]:
    """Return llama-server's /completion request for a tokenized prompt."""
    body: dict[str, Any] = {
        "prompt": tokens,
        "stream": True,
        "cache_prompt": True,  # the next turn reads only what is new
        "n_predict": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k,
        "min_p": request.min_p,
        "repeat_penalty": request.repeat_penalty,
        "stop": list(stop),
    }
    if request.seed is not None:
        body["seed"] = request.seed
    return body


async def _pump(running: Running, body: dict[str, Any], queue: asyncio.Queue[object]) -> None:
    """Put each text piece of the answer on the queue, then how it ended.

    The end is told only once the response is closed: cancelling this task while httpx closes
    a response would leave its connection counted as in use, and the pool would run dry.
    """
    try:
        ended = await _read(running, body, queue)
    except httpx.TransportError as exc:
        ended = _Ended(
            InferenceError(f"the model stopped mid-answer ({await running.server.failure(exc)})")
        )
    queue.put_nowait(ended)


async def _read(running: Running, body: dict[str, Any], queue: asyncio.Queue[object]) -> _Ended:
    async with running.client.stream("POST", "/completion", json=body) as response:
        if response.status_code != 200:
            detail = (await response.aread()).decode(errors="replace")
            return _Ended(InferenceError(_server_error(response, detail)))
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[len("data: ") :])
            if "error" in event:
                return _Ended(InferenceError(str(event["error"])))
            if event.get("content"):
                queue.put_nowait(event["content"])
            if event.get("stop"):
                return _Ended(timings=event.get("timings"))
    return _Ended(InferenceError("llama-server ended the answer without a stop"))


def _server_error(response: httpx.Response, detail: str) -> str:
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        detail = str(json.loads(detail)["error"]["message"])
    return f"llama-server refused the answer ({response.status_code}): {detail[:300]}"


async def _on_cancel(cancel: asyncio.Event, queue: asyncio.Queue[object]) -> None:
    await cancel.wait()
    queue.put_nowait(_CANCELLED)
