"""Load models as the settings describe them, and free one once its answers have ended."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meatlizard.core.settings import Settings
from meatlizard.inference.engine import InferenceEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelConfig:
    """How to load one model alias."""

    alias: str
    path: Path
    n_ctx: int
    n_threads: int | None
    n_gpu_layers: int
    keep_alive_seconds: float | None = None  # None: load the weights at once and keep them
    parallel: int = 1  # answers decoded at once, each with an n_ctx window
    server_binary: Path | None = None  # set: run the model in this llama-server


def model_configs(settings: Settings, paths: dict[str, Path]) -> dict[str, ModelConfig]:
    """Return how to load each alias -> GGUF file with this process's model settings."""
    binary = settings.model_server  # looked up once (a file check and a PATH search)
    return {
        alias: ModelConfig(
            alias,
            path,
            settings.model_window,
            settings.model_threads,
            settings.model_n_gpu_layers,
            settings.model_keep_alive_seconds,
            settings.model_parallel,
            binary,
        )
        for alias, path in paths.items()
    }


def changed(current: dict[str, ModelConfig], wanted: dict[str, ModelConfig]) -> list[str]:
    """Return the aliases served now that must go: gone, or now loaded differently."""
    return [alias for alias, config in current.items() if wanted.get(alias) != config]


async def load_engine(config: ModelConfig) -> InferenceEngine:
    """Open one model (in a thread: reading its header or weights blocks); InferenceError if not."""
    if config.server_binary is not None:
        return await start_server_engine(config, config.server_binary)
    from meatlizard.inference.llama import LlamaEngine

    return await asyncio.to_thread(
        LlamaEngine,
        config.alias,
        config.path,
        n_ctx=config.n_ctx,
        n_threads=config.n_threads,
        n_gpu_layers=config.n_gpu_layers,
        keep_alive_seconds=config.keep_alive_seconds,
        parallel=config.parallel,
    )


async def start_server_engine(config: ModelConfig, binary: Path) -> InferenceEngine:
    """Run a model in llama-server; without a keep-alive it starts now and stays."""
    from meatlizard.inference.server_engine import ServerEngine
    from meatlizard.inference.threads import default_threads

    engine = ServerEngine(
        config.alias,
        config.path,
        binary,
        n_ctx=config.n_ctx,
        n_threads=config.n_threads or default_threads(),
        n_gpu_layers=config.n_gpu_layers,
        keep_alive_seconds=config.keep_alive_seconds,
        parallel=config.parallel,
    )
    if config.keep_alive_seconds is None:
        await engine.start()
    return engine


async def close_when_idle(engine: InferenceEngine) -> None:
    """Free a model no longer offered once the answers it is writing have ended."""
    await engine.wait_idle()
    await engine.close()


def in_background(
    work: Coroutine[Any, Any, None], name: str, tasks: set[asyncio.Task[None]]
) -> None:
    """Run `work` as a task kept in `tasks` until it ends (so it is not collected midway)."""
    task = asyncio.create_task(work, name=name)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def retire(alias: str, engine: InferenceEngine, tasks: set[asyncio.Task[None]]) -> None:
    """Stop offering a model: it finishes the answers it is writing, then it is freed."""
    in_background(close_when_idle(engine), f"retire-{alias}", tasks)
    log.info("model %s is no longer served", alias)
