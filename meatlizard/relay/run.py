"""Start a client-bot worker process: load the models, then serve until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket

from meatlizard.core.cache import cache_from_settings
from meatlizard.core.settings import Settings
from meatlizard.inference.engine import InferenceEngine, InferenceError
from meatlizard.inference.loading import load_engine, model_configs
from meatlizard.inference.registry_watch import EngineHolder, RegistryWatch, WorkerModels
from meatlizard.relay.inference_worker import InferenceWorker
from meatlizard.relay.wire import PayloadSealer

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    """Return a readable id that is unique per process."""
    return f"{socket.gethostname()}-{os.getpid()}"


async def load_engines(settings: Settings) -> dict[str, InferenceEngine]:
    """Load every configured model; a model that fails is logged and skipped."""
    engines: dict[str, InferenceEngine] = {}
    for alias, config in model_configs(settings, settings.model_paths).items():
        try:
            engines[alias] = await load_engine(config)
        except InferenceError as exc:
            log.error("%s", exc)
    return engines


def watch_registry(settings: Settings, worker: EngineHolder) -> RegistryWatch:
    """Start serving models registered on this machine from now on (no restart needed)."""
    configs = model_configs(settings, settings.model_paths)
    watch = RegistryWatch(settings, WorkerModels(worker, configs))
    watch.start()
    return watch


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
    watch = watch_registry(settings, worker)
    try:
        await worker.run()
    finally:
        await watch.stop()
        for engine in worker.engines.values():
            await engine.close()
        await cache.close()
    return 0
