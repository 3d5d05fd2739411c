"""Password guesses are counted before they are checked: logins, pastes, files."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from tests.files.helpers import upload
from tests.helpers import PASSWORD, bearer, register, unique_name, user_token

LOGIN_LIMIT = 5  # per name and address
ADDRESS_LIMIT = 20  # per address
GUESS_LIMIT = 10  # guesses per address at one paste's or file's password


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # The defaults' counts over a day, so that no test straddles a window's end.
    return {
        "login_rate_limit": f"{LOGIN_LIMIT}/day",
        "login_address_rate_limit": f"{ADDRESS_LIMIT}/day",
        "password_guess_rate_limit": f"{GUESS_LIMIT}/day",
    }


async def test_parallel_wrong_logins_verify_at_most_the_limit(client: httpx.AsyncClient) -> None:
    name = await register(client)
    body = {"username": name, "password": "wrong password"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/auth/login", json=body) for _ in range(20))
    )
    codes = Counter(a.status_code for a in answers)
    assert codes[401] <= LOGIN_LIMIT, codes
    assert codes[401] + codes[429] == 20, codes
    right = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert right.status_code == 429


async def test_one_address_is_throttled_across_names(client: httpx.AsyncClient) -> None:
    codes = []
    for _ in range(ADDRESS_LIMIT + 2):
        wrong = {"username": unique_name(), "password": "wrong password"}
        codes.append((await client.post("/api/v1/auth/login", json=wrong)).status_code)
    assert codes == [401] * ADDRESS_LIMIT + [429, 429]


async def test_successful_logins_do_not_use_up_the_address(client: httpx.AsyncClient) -> None:
    name = await register(client)
    body = {"username": name, "password": PASSWORD}
    for _ in range(ADDRESS_LIMIT + 2):
        assert (await client.post("/api/v1/auth/login", json=body)).status_code == 200


async def guess(client: httpx.AsyncClient, url: str, header: str, count: int) -> Counter[int]:
    """Send `count` wrong passwords at once; return how many of each status came back."""
    answers = await asyncio.gather(
        *(client.get(url, headers={header: f"guess {i}"}) for i in range(count))
    )
    return Counter(a.status_code for a in answers)


async def test_paste_password_guesses_are_throttled(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    created = await client.post(
        "/api/v1/pastes", json={"content": "secret", "password": "hunter22"}, headers=bearer(token)
    )
    url = f"/api/v1/pastes/{created.json()['id']}"
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        codes = await guess(stranger, url, "X-Paste-Password", 25)
        assert codes == Counter({403: GUESS_LIMIT, 429: 25 - GUESS_LIMIT}), codes
        right = await stranger.get(url, headers={"X-Paste-Password": "hunter22"})
        assert right.status_code == 429
        assert int(right.headers["Retry-After"]) >= 1
    mine = await client.get("/api/v1/pastes", headers=bearer(token))
    assert [p["id"] for p in mine.json()] == [created.json()["id"]]  # guessing lost nothing


async def test_file_password_guesses_are_throttled(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    file_id = await upload(client, token, b"secret stuff")
    await client.patch(
        f"/api/v1/files/{file_id}", json={"password": "hunter2"}, headers=bearer(token)
    )
    url = f"/f/{file_id}/raw"
    async with httpx.AsyncClient(base_url=str(client.base_url)) as stranger:
        codes = await guess(stranger, url, "X-File-Password", 25)
        assert codes == Counter({403: GUESS_LIMIT, 429: 25 - GUESS_LIMIT}), codes
        right = await stranger.get(url, headers={"X-File-Password": "hunter2"})
        assert right.status_code == 429
    assert (await client.get(url, headers=bearer(token))).content == b"secret stuff"
