"""`meatlizard client-bot --check`: what this machine's llama.cpp build does with the model."""

from __future__ import annotations

import asyncio
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from meatlizard.core.settings import Settings
from meatlizard.inference.engine import GenerationRequest, GenerationStats, InferenceEngine, Turn
from meatlizard.inference.gguf import read_info

CHECK_TOKENS = 32
CHECK_PROMPT = "Count from one to twenty in words."
# `llama_print_system_info()` names each compiled GPU backend as "NAME : ..." (llama.cpp 0.3.x).
GPU_BACKENDS = ("CUDA", "Metal", "Vulkan", "ROCm", "HIP", "SYCL")


@dataclass(frozen=True)
class Build:
    """The llama.cpp backend compiled into llama-cpp-python."""

    backend: str  # "CUDA", "Metal", ... or "CPU"
    gpu_offload: bool


def backend_of(system_info: str, gpu_offload: bool) -> str:
    """Name the GPU backend in llama.cpp's system-info line, or "CPU"."""
    if gpu_offload:
        for name in GPU_BACKENDS:
            if re.search(rf"(^|\|)\s*{name}\s*:", system_info, re.IGNORECASE):
                return name
        return "GPU"
    return "CPU"


def current_build() -> Build:
    """Ask the installed llama-cpp-python which backend it was built with."""
    import llama_cpp

    offload = bool(llama_cpp.llama_supports_gpu_offload())
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    return Build(backend_of(info, offload), offload)


def server_build(system_info: str) -> Build:
    """Name the backend a llama-server was built with, from the system-info line it logs."""
    backend = backend_of(system_info, gpu_offload=True)
    offload = backend != "GPU"  # a GPU backend named in the line (else it is a CPU build)
    return Build(backend if offload else "CPU", offload)


def offloaded_layers(setting: int, block_count: int, build: Build) -> int:
    """How many of the model's layers (blocks plus the output layer) run on the GPU."""
    if not build.gpu_offload:
        return 0
    total = block_count + 1
    return total if setting < 0 else min(setting, total)


def device_name(build: Build) -> str:
    """The GPU's name from the vendor's tool, else the CPU's model name."""
    if build.backend == "CUDA" and shutil.which("nvidia-smi"):
        found = _run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
        if found:
            return found.splitlines()[0].strip()
    if platform.system() == "Darwin":
        found = _run(["sysctl", "-n", "machdep.cpu.brand_string"])
        if found:
            return found.strip()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        if match:
            return match.group(1).strip()
    return platform.processor() or platform.machine()


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


async def generation_speed(engine: InferenceEngine) -> GenerationStats:
    """Stream a short greedy answer and return its statistics."""
    stats = GenerationStats()
    request = GenerationRequest(
        [Turn("user", CHECK_PROMPT)], temperature=0.0, max_tokens=CHECK_TOKENS
    )
    async with engine.lease():
        async for _ in engine.stream(request, asyncio.Event(), stats):
            pass
    return stats


def report_lines(
    *,
    build: Build,
    device: str,
    alias: str,
    path: Path,
    engine: str,
    layers: tuple[int, int],
    threads: int | None,
    stats: GenerationStats,
) -> list[str]:
    """The lines `--check` prints."""
    offloaded, total = layers
    return [
        f"backend: {build.backend}"
        + ("" if build.gpu_offload else " (no GPU offload in this build)"),
        f"device: {device}",
        f"engine: {engine}",
        f"model: {alias} ({path.name})",
        f"offloaded layers: {offloaded}/{total}",
        f"threads: {threads if threads is not None else 'llama.cpp default'}",
        f"generation: {stats.token_count} tokens at {stats.tokens_per_second:.1f} tokens/s"
        f" (first token after {stats.time_to_first_token or 0:.2f} s)",
    ]


async def run_check(settings: Settings) -> list[str]:
    """Load the default model as the client-bot would, generate briefly, describe the result."""
    from meatlizard.inference.loading import load_engine, model_configs
    from meatlizard.inference.server_engine import ServerEngine

    alias = settings.default_model
    path = settings.model_paths[alias]
    config = replace(model_configs(settings, {alias: path})[alias], keep_alive_seconds=None)
    engine = await load_engine(config)
    try:
        stats = await generation_speed(engine)
        if isinstance(engine, ServerEngine):
            assert engine.server is not None
            build = server_build(engine.server.system_info)
            kind = f"llama-server ({config.server_binary})"
        else:
            build, kind = current_build(), "in-process (llama-cpp-python)"
    finally:
        await engine.close()
    blocks = (await asyncio.to_thread(read_info, path)).block_count
    return report_lines(
        build=build,
        device=device_name(build),
        alias=alias,
        path=path,
        engine=kind,
        layers=(offloaded_layers(settings.model_n_gpu_layers, blocks, build), blocks + 1),
        threads=settings.model_threads,
        stats=stats,
    )
