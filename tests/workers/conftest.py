"""Real processes for the remote-inference tests: web servers and client-bot workers."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from meatlizard.core.db import make_engine
from meatlizard.core.models import Base

KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
START_TIMEOUT_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """Processes started for one test; all are killed at the end."""

    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _spawn(
        self, name: str, *args: str, extra: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "meatlizard", *args],
            env={**self.env, **(extra or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(proc)
        return proc

    async def web(self) -> str:
        """Start a web process in remote mode; return its base URL once it answers."""
        port = _free_port()
        proc = self._spawn(f"web-{port}", "serve", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(START_TIMEOUT_SECONDS * 10):
                if proc.poll() is not None:
                    raise RuntimeError(self.log_tail(f"web-{port}"))
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return base
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"web process did not start: {self.log_tail(f'web-{port}')}")

    def worker(self, worker_id: str, **settings: str) -> subprocess.Popen[bytes]:
        """Start a client-bot worker with the real SmolLM2 model."""
        return self._spawn(worker_id, "client-bot", extra={"WORKER_ID": worker_id, **settings})

    async def wait_for_workers(self, base: str, count: int) -> None:
        """Wait until the web process sees `count` workers online."""
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(START_TIMEOUT_SECONDS * 10):
                status = (await http.get("/api/v1/chat/models")).json()
                if len(status.get("workers", {})) == count:
                    return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"expected {count} workers, web sees {status}")

    def log_tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cluster_env(postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for remote mode on the test PostgreSQL and Redis."""
    env = {
        **os.environ,
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "PAYLOAD_ENCRYPTION_KEY": KEY,
        "INFERENCE": "remote",
        "DATA_DIR": str(tmp_path / "data"),
        "CHAT_RATE_LIMIT": "1000/minute",
        "MODEL_MAX_TOKENS": "256",
        "MODEL_THREADS": "1",
        # One answer at a time unless a test asks for more: some tests keep a worker busy.
        "MODEL_PARALLEL": "1",
        "LOG_LEVEL": "INFO",
        "METRICS_INTERVAL_SECONDS": "1",
    }
    yield env


@pytest_asyncio.fixture
async def cluster(cluster_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Cluster]:
    """A set of processes, stopped and the databases emptied afterwards."""
    logs = tmp_path / "logs"
    logs.mkdir()
    group = Cluster(cluster_env, logs)
    try:
        yield group
    finally:
        group.stop_all()
        engine = make_engine(cluster_env["DATABASE_URL"])
        async with engine.begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()
        import redis.asyncio as redis

        client = redis.Redis.from_url(cluster_env["REDIS_URL"])
        await client.flushdb()
        await client.aclose()
