"""A web process stopped mid-upload: a resume on another process continues where it stopped.

Two `meatlizard serve` processes share PostgreSQL, Redis and S3. One is stopped while a tus
PATCH is streaming into it: with SIGTERM it stores what arrived and records that offset;
with SIGKILL its upload lock lapses within seconds instead of an hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from meatlizard.core.storage.base import PART_SIZE
from tests.files.helpers import OFFSET_TYPE, TUS, create
from tests.fixtures.backends import Backend
from tests.fixtures.processes import spawn
from tests.helpers import bearer, until, user_token
from tests.helpers import free_port as _free_port

pytestmark = pytest.mark.subprocesses

MIB = 1024 * 1024
DATA = random.Random(26).randbytes(3 * PART_SIZE)
FIRST = PART_SIZE + 3 * MIB  # sent before the SIGTERM: a whole part and a tail
POLLS = 600  # 0.1 s apart: one minute at most for any wait below (the old lock took an hour)


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "meatlizard", "serve", "--port", str(port)]
    return spawn(command, env=env)


async def _up(port: int, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(POLLS * 2):
            assert process.poll() is None, "serve exited early"
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError("serve never answered")


async def _stalled_patch(
    port: int, token: str, path: str, offset: int, body: bytes, sent: asyncio.Event
) -> None:
    """PATCH `body` at `offset`, then keep the request open without sending more."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), MIB):
            yield body[start : start + MIB]
        sent.set()
        await asyncio.Event().wait()  # a client on a slow link, mid-request

    headers = {**TUS, **OFFSET_TYPE, **bearer(token), "Upload-Offset": str(offset)}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=None) as http:
        await http.patch(path, content=chunks(), headers=headers)


async def _offset(http: httpx.AsyncClient, token: str, path: str) -> int:
    head = await http.head(path, headers={**TUS, **bearer(token)})
    assert head.status_code == 200, head.text
    return int(head.headers["Upload-Offset"])


async def _exited(process: subprocess.Popen[bytes]) -> int:
    return await asyncio.to_thread(process.wait, POLLS / 10)


@pytest.mark.parametrize("backend", ["production"], indirect=True)
async def test_a_stopped_web_process_neither_loses_the_upload_nor_locks_it(
    backend: Backend, services: object, tmp_path: Path
) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "d"), "INFERENCE": "fallback"}
    env.update({k.upper(): str(v) for k, v in backend.settings.items()})
    env["LOG_LEVEL"] = "WARNING"
    ports = [_free_port(), _free_port(), _free_port()]
    stays, first, second = (_serve(env, port) for port in ports)
    try:
        await asyncio.gather(
            *(_up(p, s) for p, s in zip(ports, (stays, first, second), strict=True))
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as http:
            token = await user_token(http)
            created = await create(http, token, len(DATA))
            assert created.status_code == 201, created.text
            path = httpx.URL(created.headers["Location"]).path

            # SIGTERM while a PATCH is open: what arrived is stored and its offset recorded
            # (before, the offset stayed 0 and everything sent was lost).
            sent = asyncio.Event()
            writing = asyncio.create_task(
                _stalled_patch(ports[1], token, path, 0, DATA[:FIRST], sent)
            )
            await asyncio.wait_for(sent.wait(), POLLS / 10)
            # Stop it mid-stream: once its first part is stored (before, never recorded).
            await until(
                lambda: _at(http, token, path, PART_SIZE),
                "the first part is recorded",
                within=POLLS / 10,
            )
            first.send_signal(signal.SIGTERM)
            await _exited(first)
            writing.cancel()  # the client would wait for its next chunk forever
            # The server stops reading at once: bytes still in the socket never arrived.
            kept = await _offset(http, token, path)
            assert PART_SIZE <= kept <= FIRST

            # SIGKILL while a PATCH is open: its lock goes seconds later, not an hour.
            sent = asyncio.Event()
            writing = asyncio.create_task(
                _stalled_patch(ports[2], token, path, kept, DATA[kept : 2 * PART_SIZE], sent)
            )
            await asyncio.wait_for(sent.wait(), POLLS / 10)
            # The part that completes at 2 * PART_SIZE is recorded as soon as it is stored.
            await until(
                lambda: _at(http, token, path, 2 * PART_SIZE),
                "the second part is recorded",
                within=POLLS / 10,
            )
            second.send_signal(signal.SIGKILL)
            await _exited(second)
            writing.cancel()
            headers = {**TUS, **OFFSET_TYPE, **bearer(token)}
            probe = {**headers, "Upload-Offset": str(2 * PART_SIZE)}
            assert (await http.patch(path, content=b"", headers=probe)).status_code == 423
            await until(
                lambda: _unlocked(http, path, probe),
                "the dead process's lock goes",
                within=POLLS / 10,
            )

            # The rest goes to the process that stayed; the file is whole.
            rest = {**headers, "Upload-Offset": str(2 * PART_SIZE)}
            done = await http.patch(path, content=DATA[2 * PART_SIZE :], headers=rest)
            assert done.status_code == 204, done.text
            file_id = path.rsplit("/", 1)[-1]
            download = await http.get(f"/f/{file_id}/raw", headers=bearer(token))
            assert download.status_code == 200
            assert hashlib.sha256(download.content).digest() == hashlib.sha256(DATA).digest()
    finally:
        for process in (stays, first, second):
            if process.poll() is None:
                process.kill()
            process.wait()


async def _at(http: httpx.AsyncClient, token: str, path: str, offset: int) -> bool:
    return await _offset(http, token, path) == offset


async def _unlocked(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> bool:
    answer = await http.patch(path, content=b"", headers=headers)
    assert answer.status_code in (204, 423), answer.text
    return answer.status_code == 204
