"""Fixtures of the deployment tests: nginx or Caddy in front of two web processes (production
backends)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sqlalchemy import text

from meatlizard.core.db import make_engine
from meatlizard.tables import Base
from tests.deploy.caddy import start_caddy
from tests.deploy.proxy import Launch, Proxy, WebPair, find_binary, start_nginx

# Each shipped proxy configuration, by the name of its program and Debian package.
PROXIES = {"nginx": start_nginx, "caddy": start_caddy}


@pytest_asyncio.fixture(scope="module")
async def web(
    postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[WebPair]:
    """Two web processes on PostgreSQL and Redis, sharing one storage folder."""
    root = tmp_path_factory.mktemp("web-pair")
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(root / "data"),
        "LOG_LEVEL": "DEBUG",  # redirects are logged at DEBUG
        "LOG_FORMAT": "json",
        "LOGIN_RATE_LIMIT": "3/minute",
        "MODEL_MAX_TOKENS": "24",
        "MODEL_THREADS": "1",
    }
    env.pop("COOKIE_SECURE", None)
    pair = WebPair(env, root)
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()
        engine = make_engine(postgres_url)
        async with engine.begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()
        import redis.asyncio as redis

        client = redis.Redis.from_url(redis_url)
        await client.flushdb()
        await client.aclose()


@pytest.fixture(scope="module", params=sorted(PROXIES))
def launch_proxy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Launch]:
    """Start nginx or Caddy (one test run each) with its shipped configuration; stop them after."""
    name: str = request.param
    binary = find_binary(name)
    if binary is None:
        pytest.skip(
            f"{name} is not installed (Debian package {name}: `apt-get install {name}`; "
            "`make proxies` installs it as root)"
        )
    started: list[Proxy] = []

    def launch(upstreams: list[int]) -> Proxy:
        started.append(PROXIES[name](binary, tmp_path_factory.mktemp(name), upstreams))
        return started[-1]

    yield launch
    for each in started:
        each.stop()


@pytest.fixture(scope="module")
def proxy(launch_proxy: Launch, web: WebPair) -> Proxy:
    """The proxy, with a certificate made for this run, in front of both web processes."""
    return launch_proxy(web.ports)
