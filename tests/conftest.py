"""Shared fixtures: real backends built once per run, a fresh app and server per test.

The app-level suite runs twice: on the embedded backends (SQLite, in-process cache, local
storage) and on the production ones (PostgreSQL, Redis, S3 on SeaweedFS).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from meatlizard.app import create_app
from meatlizard.core.settings import Settings, find_llama_server
from meatlizard.inference.loading import ModelConfig
from meatlizard.inference.server_engine import ServerEngine
from meatlizard.inference.service import LocalInference
from meatlizard.runtime import Services
from tests.helpers import TLS, bundled_model, serving

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.backends",
    "tests.fixtures.browser",
    "tests.fixtures.discord",
    "tests.fixtures.cluster",
    "tests.fixtures.services",
]

# Answers the shared model decodes at once (tests/inference/test_batching.py runs eight).
MODEL_PARALLEL = 8
# One decoding thread per test process, as the subprocess workers have (MODEL_THREADS=1): the
# suite runs more processes than cores, and llama.cpp's threads spin at every barrier until the
# slowest arrives, so two per model stalled whenever another process held the other core.
MODEL_THREADS = 1


# Tests that wait on other processes (a cluster of web processes and workers, both bots, a
# 1 GiB transfer) run first: under pytest-xdist the long ones are then spread over the workers
# from the start, rather than left for one worker to finish alone at the end of the run.
LONG_FIXTURES = {"cluster", "bots_world", "relay_world"}
LONG_MARKERS = {"large", "subprocesses"}


def _long(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & LONG_FIXTURES) or any(item.get_closest_marker(m) for m in LONG_MARKERS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not _long(item))  # stable: the order within each group stays


@pytest_asyncio.fixture(scope="session")
async def model_inference() -> AsyncIterator[LocalInference]:
    """The real SmolLM2 model, loaded once for the whole run."""
    path = bundled_model()
    config = ModelConfig(
        "smollm2",
        path,
        n_ctx=2048,
        n_threads=MODEL_THREADS,
        n_gpu_layers=0,
        parallel=MODEL_PARALLEL,
    )
    service = LocalInference([config], "smollm2")
    service.start_loading()
    await service.wait_loaded()
    assert service.status()["state"] == "ready", service.status()
    yield service
    await service.close()


@pytest.fixture(scope="session")
def llama_server_binary() -> Path:
    """llama.cpp's own server, as `make install-dev` builds it beside the venv's Python."""
    binary = find_llama_server()
    if binary is None:
        pytest.skip("no llama-server binary beside this Python nor on PATH (make install-dev)")
    return binary


@pytest_asyncio.fixture(scope="session")
async def llama_server_engine(llama_server_binary: Path) -> AsyncIterator[ServerEngine]:
    """The real SmolLM2 in a llama-server subprocess, started once for the whole run."""
    path = bundled_model()
    engine = ServerEngine(
        "smollm2",
        path,
        llama_server_binary,
        n_ctx=2048,
        n_threads=MODEL_THREADS,
        parallel=MODEL_PARALLEL,
    )
    await engine.start()
    yield engine
    await engine.close()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module (or with indirect parametrisation) to change settings."""
    return {}


@pytest.fixture
def use_model() -> bool:
    """Override to True in modules whose tests need the real model."""
    return False


@pytest.fixture
def shared_inference(request: pytest.FixtureRequest, use_model: bool) -> LocalInference | None:
    """The run-wide real model when the test module asks for it."""
    return request.getfixturevalue("model_inference") if use_model else None


@pytest.fixture(scope="session")
def shared_app() -> FastAPI:
    """One web app per test process: building its routes costs more than most tests.

    Its lifespan never runs in tests (the servers start with lifespan off), so the settings
    given here are not used; each test's services come through `app`.
    """
    return create_app(Settings(inference="fallback"))


@pytest.fixture
def app(services: Services, shared_app: FastAPI) -> Iterator[FastAPI]:
    """The web app wired to this test's services; routes a test adds are removed after it."""
    routes = list(shared_app.router.routes)
    shared_app.state.services = services
    try:
        yield shared_app
    finally:
        shared_app.router.routes[:] = routes
        shared_app.openapi_schema = None
        del shared_app.state.services


@pytest_asyncio.fixture
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """Serve the app with uvicorn on a free loopback port; yield its base URL."""
    async with serving(app, log_level="warning") as base_url:
        yield base_url


@pytest_asyncio.fixture
async def client(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the live server."""
    async with httpx.AsyncClient(base_url=live_server, timeout=30, verify=TLS) as http:
        yield http
