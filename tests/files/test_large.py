"""A 1 GiB tus upload and download through `meatlizard serve` in a subprocess, on both backends.

Data is generated on the fly and hashed on both ends; the server's peak resident memory
(VmHWM from /proc) is recorded and must stay far below the file's size.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.files.helpers import OFFSET_TYPE, TUS
from tests.fixtures.backends import Backend
from tests.fixtures.processes import spawn
from tests.helpers import bearer, free_port, until, user_token

pytestmark = pytest.mark.large
FILE_BYTES = 1024**3
REQUEST_BYTES = 128 * 1024**2  # one tus PATCH, as tus-js-client sends with a chunkSize
BLOCK = random.Random(5).randbytes(1024**2)
PEAK_RSS_LIMIT = 400 * 1024**2  # an order of magnitude below what buffering would take
START_LIMIT_S = 60.0  # a hang guard only


def peak_rss(pid: int) -> int:
    """Return a process's peak resident set size in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.fixture
def server(
    backend: Backend, tmp_path: Path, services: object
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`meatlizard serve` on this backend (`services` empties the production database after)."""
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "serve"), "INFERENCE": "fallback"}
    env["LOG_LEVEL"] = "WARNING"
    env.update({k.upper(): str(v) for k, v in backend.settings.items()})
    env["FILES_MAX_UPLOAD_BYTES"] = str(2 * FILE_BYTES)
    process = spawn([sys.executable, "-m", "meatlizard", "serve", "--port", str(port)], env=env)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait()


async def _wait_up(http: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    async def answers() -> bool:
        assert process.poll() is None, "serve exited before it answered"
        try:
            return (await http.get("/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    await until(answers, "serve answers /healthz", within=START_LIMIT_S, every=0.1)


async def generated(start: int, end: int, digest: hashlib._Hash) -> AsyncIterator[bytes]:
    for position in range(start, end, len(BLOCK)):
        chunk = BLOCK[: min(len(BLOCK), end - position)]
        digest.update(chunk)
        yield chunk


async def test_one_gib_round_trip(
    server: tuple[str, subprocess.Popen[bytes]], record_property
) -> None:  # type: ignore[no-untyped-def]
    url, process = server
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        await _wait_up(http, process)
        token = await user_token(http)
        created = await http.post(
            "/api/v1/files/tus",
            headers={**TUS, **bearer(token), "Upload-Length": str(FILE_BYTES)},
        )
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        sent = hashlib.sha1()
        for offset in range(0, FILE_BYTES, REQUEST_BYTES):
            end = min(FILE_BYTES, offset + REQUEST_BYTES)
            headers = {**TUS, **OFFSET_TYPE, **bearer(token), "Upload-Offset": str(offset)}
            headers["Content-Length"] = str(end - offset)
            answer = await http.patch(
                location, content=generated(offset, end, sent), headers=headers
            )
            assert answer.status_code == 204, answer.text
        received = hashlib.sha1()
        size = 0
        async with http.stream("GET", f"/f/{location.rsplit('/', 1)[-1]}/raw") as download:
            assert download.status_code == 200
            async for chunk in download.aiter_bytes():
                received.update(chunk)
                size += len(chunk)
    assert size == FILE_BYTES
    assert received.hexdigest() == sent.hexdigest()
    peak = peak_rss(process.pid)
    record_property("server_peak_rss_mib", round(peak / 1024**2, 1))
    print(f"server peak RSS for a 1 GiB upload and download: {peak / 1024**2:.1f} MiB")
    assert peak < PEAK_RSS_LIMIT
