"""Serve models added, removed or made default while a process runs, without a restart.

`meatlizard models add|remove|default` and the admin page write the registry file in
DATA_DIR; every web process and client-bot on that machine looks at it every
MODEL_REGISTRY_POLL_SECONDS (one `stat`) and brings its models in line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from meatlizard.core.settings import Settings
from meatlizard.core.settings.inference import MODEL_REGISTRY
from meatlizard.core.sweeper import Sweeper
from meatlizard.inference.engine import InferenceEngine, InferenceError
from meatlizard.inference.loading import ModelConfig, changed, load_engine, model_configs, retire

log = logging.getLogger(__name__)

Signature = tuple[int, int, int] | None  # inode, mtime, size of the registry file; None: none


class ModelHost(Protocol):
    async def serve_models(self, configs: dict[str, ModelConfig], default_alias: str) -> None:
        """Serve exactly these models from now on, with this default."""


class RegistryWatch(Sweeper):
    """Tells a model host what to serve whenever the registry file changes (and once at start)."""

    name = "model-registry"
    swept_what = "model registry change(s)"

    def __init__(self, settings: Settings, host: ModelHost) -> None:
        super().__init__(settings.model_registry_poll_seconds)
        self._settings = settings
        self._host = host
        self._seen: Signature | str = "never"

    def _signature(self) -> Signature:
        try:
            stat = (self._settings.data_dir / MODEL_REGISTRY).stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    async def sweep_once(self) -> int:
        signature = self._signature()
        if signature == self._seen:
            return 0
        paths, default = self._settings.current_models()  # an unreadable file: retried next time
        await self._host.serve_models(model_configs(self._settings, paths), default)
        first, self._seen = self._seen == "never", signature
        return 0 if first else 1


class EngineHolder(Protocol):
    engines: dict[str, InferenceEngine]
    default_alias: str


class WorkerModels:
    """The models of a client-bot: its engine table, changed in place as the registry changes."""

    def __init__(self, worker: EngineHolder, configs: dict[str, ModelConfig]) -> None:
        self._worker = worker
        self._configs = dict(configs)  # what is served or failed to load, by alias
        self._retiring: set[asyncio.Task[None]] = set()

    async def serve_models(self, configs: dict[str, ModelConfig], default_alias: str) -> None:
        self._worker.default_alias = default_alias
        for alias in changed(self._configs, configs):
            del self._configs[alias]
            engine = self._worker.engines.pop(alias, None)
            if engine is not None:
                retire(alias, engine, self._retiring)
        for alias, config in configs.items():
            if alias in self._configs:
                continue
            self._configs[alias] = config  # a file that fails is not tried again until it changes
            try:
                self._worker.engines[alias] = await load_engine(config)
            except InferenceError as exc:
                log.error("%s", exc)
                continue
            log.info(
                "model %s loaded from %s; it is announced with the next heartbeat",
                alias,
                config.path,
            )
