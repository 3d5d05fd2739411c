"""New pastes highlighted in helper processes: same result, and a dead helper costs no paste."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import httpx
import pytest

from meatlizard.core.services import Services
from meatlizard.pastes import pool
from meatlizard.pastes.highlight import analyse


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
