"""Start a client-bot worker process: load the models, then serve until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket

from meatlizard.core.cache import cache_from_settings
from meatlizard.core.config import Settings
from meatlizard.inference.engine import InferenceEngine, InferenceError
from meatlizard.relay.inference_worker import InferenceWorker
from meatlizard.relay.wire import PayloadSealer

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    """Return a readable id that is unique per process."""
    return f"{socket.gethostname()}-{os.getpid()}"


async def load_engines(settings: Settings) -> dict[str, InferenceEngine]:
    """Load every configured model; a model that fails is logged and skipped."""
    from meatlizard.inference.llama import LlamaEngine

    engines: dict[str, InferenceEngine] = {}
    for alias, path in settings.model_paths.items():
        try:
            engines[alias] = await asyncio.to_thread(
                LlamaEngine,
                alias,
                path,
                n_ctx=settings.model_window,
                n_threads=settings.model_threads,
                n_gpu_layers=settings.model_n_gpu_layers,
                keep_alive_seconds=settings.model_keep_alive_seconds,
                parallel=settings.model_parallel,
            )
        except InferenceError as exc:
            log.error("%s", exc)
    return engines


async def run_worker(settings: Settings) -> int:
    """Serve until a signal arrives; return the process exit code."""
    assert settings.redis_url is not None
    engines = await load_engines(settings)
    if not engines:
        log.error("no model could be loaded; the worker stops")
        return 3
    cache = cache_from_settings(settings)
    worker = InferenceWorker(
        redis_url=settings.redis_url,
        sealer=PayloadSealer.from_settings(settings, cache),
        engines=engines,
        default_alias=settings.default_model,
        worker_id=settings.worker_id or default_worker_id(),
        slots=settings.model_parallel,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    try:
        await worker.run()
    finally:
        for engine in engines.values():
            await engine.close()
        await cache.close()
    return 0
