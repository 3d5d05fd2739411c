"""llama.cpp's own server as the engine (MODEL_ENGINE=llama-server): its life as a subprocess.

What answers look like is tested on both engines in test_batching.py; here: Stop frees the
server's slot, a crash is reported and the next answer starts a new server, the keep-alive
stops the process, a server that cannot start says why, and nobody else can drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from meatlizard.core.settings import load_settings
from meatlizard.inference import llama_server
from meatlizard.inference.engine import GenerationRequest, GenerationStats, InferenceError, Turn
from meatlizard.inference.loading import ModelConfig, load_engine, model_configs
from meatlizard.inference.server_engine import ServerEngine
from tests.helpers import bundled_model, until

WAIT = 60.0  # bound on every wait for the server (it loads SmolLM2 in about a second)


def request(prompt: str, max_tokens: int = 200) -> GenerationRequest:
    return GenerationRequest([Turn("user", prompt)], temperature=0.0, max_tokens=max_tokens)


def command_line(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


async def slots_busy(engine: ServerEngine) -> int:
    server = engine.server
    assert server is not None
    async with server.client(timeout=10) as client:
        response = await client.get("/slots")
    response.raise_for_status()
    return sum(1 for slot in response.json() if slot["is_processing"])


async def test_stop_frees_the_servers_slot(llama_server_engine: ServerEngine) -> None:
    engine = llama_server_engine
    cancel, stats, pieces = asyncio.Event(), GenerationStats(), []
    async for piece in engine.stream(request("Tell me a long story."), cancel, stats):
        pieces.append(piece)
        if len(pieces) == 2:
            assert await slots_busy(engine) == 1
            cancel.set()
    assert len(pieces) == 2 and stats.stopped

    async def free() -> bool:
        return await slots_busy(engine) == 0

    # Closing the stream ended the answer on the server too: its slot is free again.
    await until(free, "the stopped answer's slot is free", within=WAIT)


SYSTEM = "You answer questions for a community of gardeners, briefly and kindly. " * 12


def gardening(question: str) -> GenerationRequest:
    return GenerationRequest([Turn("system", SYSTEM), Turn("user", question)], 0.0, 16)


async def test_a_chat_gets_the_idle_slot_that_holds_its_system_prompt(
    llama_server_binary: Path,
) -> None:
    engine = ServerEngine("smollm2", bundled_model(), llama_server_binary, n_threads=1, parallel=2)
    try:
        runs = []
        for question in ("What is compost?", "How deep should tulips be planted?"):
            stats = GenerationStats()
            async for _ in engine.stream(gardening(question), asyncio.Event(), stats):
                pass
            runs.append(stats)
    finally:
        await engine.close()
    first, second = (s.extra for s in runs)
    assert first["reused_prompt_tokens"] == 0
    # The second question went to the slot holding the shared system prompt: only its own
    # words were read.
    assert second["reused_prompt_tokens"] > 0.8 * second["prompt_tokens"]


async def test_the_server_takes_requests_with_its_key_only(
    llama_server_engine: ServerEngine,
) -> None:
    server = llama_server_engine.server
    assert server is not None and server.socket_path is not None and server.pid is not None
    # No network port: a Unix socket in a directory only our user can open.
    assert stat.S_IMODE(server.socket_path.parent.stat().st_mode) == 0o700
    assert stat.S_ISSOCK(server.socket_path.stat().st_mode)
    assert not tcp_listeners_of(server.pid)
    transport = httpx.AsyncHTTPTransport(uds=str(server.socket_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        response = await client.post("/completion", json={"prompt": "hi", "n_predict": 1})
    assert response.status_code == 401
    # The key is not on the command line, which every local user can read.
    assert server.pid is not None
    assert server.key.encode() not in command_line(server.pid)


def tcp_listeners_of(pid: int) -> set[str]:
    """Return the inodes of the TCP sockets this process listens on."""
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            held.add(os.readlink(fd).removeprefix("socket:[").removesuffix("]"))
    listening = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                listening.add(fields[9])
    return held & listening


async def signalled_mid_answer(engine: ServerEngine, sig: int) -> tuple[str, int]:
    """Send `sig` to the server once the answer has begun; return its error and the pid."""
    pid, answer = 0, engine.stream(request("Describe the sea."), asyncio.Event(), GenerationStats())
    with pytest.raises(InferenceError) as error:
        async for _ in answer:
            server = engine.server
            assert server is not None and server.pid is not None
            pid = server.pid
            os.kill(pid, sig)
    return str(error.value), pid


async def answers_on_a_new_server(engine: ServerEngine, old_pid: int) -> None:
    answer = engine.stream(request("Hi!", 8), asyncio.Event(), GenerationStats())
    assert "".join([piece async for piece in answer]).strip()
    assert engine.server is not None and engine.server.pid != old_pid


async def test_a_crashed_server_is_reported_and_started_again(
    llama_server_binary: Path,
) -> None:
    engine = ServerEngine("smollm2", bundled_model(), llama_server_binary, n_threads=1, parallel=2)
    try:
        error, pid = await signalled_mid_answer(engine, signal.SIGKILL)
        assert "the model stopped mid-answer" in error
        assert f"exited with code {-signal.SIGKILL}" in error
        await answers_on_a_new_server(engine, pid)
    finally:
        await engine.close()


async def test_the_keep_alive_stops_the_server_and_the_next_answer_starts_it(
    llama_server_binary: Path,
) -> None:
    engine = ServerEngine(
        "smollm2", bundled_model(), llama_server_binary, n_threads=1, keep_alive_seconds=0
    )
    try:
        assert not engine.loaded  # nothing runs until the first answer
        async for _ in engine.stream(request("Hi!", 4), asyncio.Event(), GenerationStats()):
            pass
        server = engine.server
        assert server is not None
        await until(lambda: not engine.loaded, "the model is freed when idle", within=WAIT)
        assert not server.running  # the process has ended
        async for _ in engine.stream(request("Hi!", 4), asyncio.Event(), GenerationStats()):
            pass
        assert engine.server is not None and engine.server.running
    finally:
        await engine.close()
    assert engine.server is None


async def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "llama-server"
    broken.write_text("#!/bin/sh\necho 'error: failed to allocate the KV cache'\nexit 3\n")
    broken.chmod(0o755)
    config = ModelConfig("smollm2", bundled_model(), 1024, 1, 0, None, 2, broken)
    with pytest.raises(InferenceError) as error:
        await load_engine(config)
    message = str(error.value)
    assert message.startswith(f"cannot load model 'smollm2' from {config.path}")
    assert "llama-server exited with code 3: error: failed to allocate the KV cache" in message


async def test_a_file_that_is_not_gguf_is_refused_before_a_server_runs(
    tmp_path: Path, llama_server_binary: Path
) -> None:
    text = tmp_path / "model.gguf"
    text.write_text("not a model")
    config = ModelConfig("x", text, 1024, 1, 0, 300.0, 2, llama_server_binary)
    with pytest.raises(InferenceError, match="not a GGUF file"):
        await load_engine(config)


STARTER = """
import asyncio, sys
from pathlib import Path
from meatlizard.inference.server_engine import ServerEngine

async def main():
    engine = ServerEngine("smollm2", Path(sys.argv[1]), Path(sys.argv[2]), n_threads=1)
    await engine.start()
    print(engine.server.pid, engine.server.socket_path.parent, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def is_dir(path: str) -> bool:
    return Path(path).is_dir()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left


@pytest.mark.subprocesses
async def test_the_server_ends_when_the_process_that_started_it_is_killed(
    llama_server_binary: Path,
) -> None:
    starter = await asyncio.create_subprocess_exec(
        sys.executable, "-c", STARTER, str(bundled_model()), str(llama_server_binary),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert starter.stdout is not None
    try:
        pid, home = (await asyncio.wait_for(starter.stdout.readline(), WAIT)).decode().split()
        server_pid = int(pid)
        assert alive(server_pid)
    finally:
        starter.kill()
        await starter.wait()
    # Killed without a chance to clean up, its llama-server still goes.
    await until(lambda: not alive(server_pid), "the orphaned llama-server ends", within=WAIT)
    # Its socket's empty directory is left, until the next server's start sweeps it away.
    assert is_dir(home)
    llama_server.sweep_orphaned_homes()
    assert not is_dir(home)


async def test_a_refused_answer_says_what_llama_server_said(
    llama_server_engine: ServerEngine,
) -> None:
    # The chat service fits conversations to the window first; the engine still reports it.
    too_long = request("tell me " * 1500, 8)
    with pytest.raises(InferenceError) as error:
        async for _ in llama_server_engine.stream(too_long, asyncio.Event(), GenerationStats()):
            pass
    assert str(error.value).startswith("llama-server refused the answer (400): ")
    assert "context" in str(error.value)
    # The server goes on answering.
    answer = llama_server_engine.stream(request("Hi!", 4), asyncio.Event(), GenerationStats())
    assert "".join([piece async for piece in answer]).strip()


async def test_a_server_that_stops_answering_is_killed_and_replaced(
    llama_server_binary: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llama_server, "HEALTH_EVERY_SECONDS", 0.5)
    monkeypatch.setattr(llama_server, "HEALTH_MISSES", 2)
    engine = ServerEngine("smollm2", bundled_model(), llama_server_binary, n_threads=1, parallel=2)
    try:
        error, pid = await signalled_mid_answer(engine, signal.SIGSTOP)  # alive, but mute
        assert "killed: it did not answer for 1 s" in error
        await answers_on_a_new_server(engine, pid)
    finally:
        await engine.close()


async def test_the_default_settings_run_the_model_in_llama_server(
    llama_server_binary: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODEL_ENGINE", raising=False)
    settings = load_settings()
    config = model_configs(settings, settings.model_paths)["smollm2"]
    assert config.server_binary == llama_server_binary  # MODEL_ENGINE=auto found it
    engine = await load_engine(config)
    try:
        assert isinstance(engine, ServerEngine)
        assert not engine.loaded  # it starts with the first answer (MODEL_KEEP_ALIVE)
    finally:
        await engine.close()


def test_the_sweep_removes_only_the_homes_of_starters_that_died(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.Popen(["true"])
    ended.wait()
    live = tmp_path / f"{llama_server.HOME_PREFIX}{os.getpid()}-a"
    dead = tmp_path / f"{llama_server.HOME_PREFIX}{ended.pid}-b"
    unrelated = tmp_path / f"{llama_server.HOME_PREFIX}notes-c"
    for home in (live, dead, unrelated):
        home.mkdir()
    llama_server.sweep_orphaned_homes()
    assert live.is_dir() and unrelated.is_dir() and not dead.exists()
