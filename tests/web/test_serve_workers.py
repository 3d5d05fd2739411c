"""`meatlizard serve --workers N`: several web processes sharing Redis, or a clear refusal."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from meatlizard.links.models import Link
from meatlizard.runtime import Services
from tests.fixtures.backends import Backend
from tests.fixtures.processes import spawn
from tests.helpers import free_port

pytestmark = pytest.mark.subprocesses

CLICKS = 30


def _serve(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "meatlizard", "serve", *args]
    return spawn(command, env=env, cwd=cwd, stderr=subprocess.PIPE, text=True)


def test_workers_without_redis_stop_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DATA_DIR"] = str(tmp_path / "d")
    process = _serve("--workers", "2", "--port", str(free_port()), env=env, cwd=tmp_path)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("meatlizard: setting REDIS_URL: --workers above 1 needs Redis")


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


async def _up(http: httpx.AsyncClient, process: subprocess.Popen[str]) -> None:
    while True:
        assert process.poll() is None, "serve exited early"
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            await asyncio.sleep(0.2)


async def test_two_workers_share_links_and_write_every_click(
    backend: Backend, services: Services, redis_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "d"), "INFERENCE": "fallback"}
    env.update({k.upper(): str(v) for k, v in backend.settings.items()})
    env.update({"REDIS_URL": redis_url, "LOG_LEVEL": "WARNING"})
    port = free_port()
    process = _serve("--workers", "2", "--port", str(port), env=env, cwd=tmp_path)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await _up(http, process)
            assert len(_children(process.pid)) >= 2  # the worker processes
            created = await http.post("/api/v1/links", json={"url": "https://example.com/w"})
            assert created.status_code == 201, created.text
            slug = created.json()["slug"]
        for _ in range(CLICKS):  # a new connection each time, so both workers take some
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                answer = await http.get(f"/s/{slug}")
                assert answer.status_code == 302
                assert answer.headers["location"] == "https://example.com/w"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    async with services.sessions() as db:
        link = await db.scalar(select(Link).where(Link.slug == slug))
    assert link is not None
    assert link.clicks + link.bot_clicks == CLICKS  # each worker flushed its clicks at shutdown
