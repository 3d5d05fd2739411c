"""New pastes highlighted in helper processes: same result, and a dead helper costs no paste."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from meatlizard.core.errors import InvalidInput
from meatlizard.pastes import pool
from meatlizard.pastes.highlight import analyse
from meatlizard.runtime import Services


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"paste_highlight_processes": 1}


@pytest.fixture(autouse=True)
def fresh_pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts and ends without helpers, and with none marked broken."""
    pool.close_pools()
    monkeypatch.setattr(pool, "_broken_at", -pool.RETRY_SECONDS)
    yield
    pool.close_pools()


def _helpers() -> list[int]:
    return pool.helper_pids()


async def _create(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    return await client.post("/api/v1/pastes", json={"content": "#!/bin/bash\necho hi\n", **body})


async def test_a_helper_process_draws_what_a_thread_would(
    client: httpx.AsyncClient, services: Services
) -> None:
    made = await _create(client)
    assert made.status_code == 201 and made.json()["language"] == "bash"  # guessed there
    helpers = _helpers()
    assert len(helpers) == 1 and os.getpid() not in helpers
    page = await client.get(f"/p/{made.json()['id']}")
    assert analyse("#!/bin/bash\necho hi\n", None)[1] in page.text
    refused = await _create(client, language="no-such-language")  # raised there, told here
    assert refused.status_code == 422 and "unknown language" in refused.text
    await services.close()
    assert _helpers() == []


async def test_a_dead_helper_costs_no_paste(client: httpx.AsyncClient) -> None:
    assert (await _create(client)).status_code == 201
    for pid in _helpers():
        os.kill(pid, signal.SIGKILL)
    made = await _create(client, language="bash")
    assert made.status_code == 201, made.text  # drawn in a thread meanwhile
    assert 'id="L2"' in (await client.get(f"/p/{made.json()['id']}")).text
    assert _helpers() == []  # no new pool until RETRY_SECONDS have passed
    pool._broken_at -= pool.RETRY_SECONDS
    assert (await _create(client)).status_code == 201
    assert len(_helpers()) == 1


async def test_concurrent_requests_each_get_their_own_answer() -> None:
    texts = [f"print({n})\n" for n in range(12)]
    requests = [asyncio.ensure_future(pool.highlight_new(text, "python", 2)) for text in texts]
    refused = asyncio.ensure_future(pool.highlight_new("x", "no-such-language", 2))
    requests[3].cancel()  # its answer still comes back, and is dropped
    answers = await asyncio.gather(*requests, return_exceptions=True)
    assert isinstance(answers[3], asyncio.CancelledError)
    for n, text in enumerate(texts):
        if n != 3:
            assert answers[n] == analyse(text, "python")
    with pytest.raises(InvalidInput, match="unknown language"):
        await refused
    assert len(_helpers()) == 2
    assert await pool.highlight_new("x = 1\n", "python", 2) == analyse("x = 1\n", "python")


GIVE_UP_POLLS = 1200  # a guard against hanging the suite, not a speed requirement
KILLED_SERVER = """
import asyncio, sys
from meatlizard.pastes import pool

async def main():
    await pool.highlight_new("x = 1", "python", 1)
    print(pool.helper_pids()[0], flush=True)
    await asyncio.sleep(3600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


async def test_helpers_leave_when_their_server_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(KILLED_SERVER)
    server = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=asyncio.subprocess.PIPE
    )
    assert server.stdout is not None
    helper = int(await server.stdout.readline())
    assert _running(helper)
    server.kill()
    await server.wait()
    for _ in range(GIVE_UP_POLLS):  # its socket to the server closed: it reads the end
        if not _running(helper):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"helper {helper} outlived its killed server")
