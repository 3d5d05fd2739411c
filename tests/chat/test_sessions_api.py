"""Chat sessions over the API: create, list, change, delete, export, isolation."""

from __future__ import annotations

import httpx
import pytest

from meatlizard.chat.presets import PRESETS
from tests.helpers import bearer, create_session, user_token


async def test_create_with_defaults(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    assert session["title"] == "New chat"
    assert session["temperature"] == 0.7
    assert session["system_prompt"] == ""
    assert len(session["id"]) == 32


async def test_preset_fills_prompt_and_temperature_unless_given(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    poet = PRESETS["poet"]
    session = await create_session(client, token, preset="poet")
    assert session["system_prompt"] == poet.system_prompt
    assert session["temperature"] == poet.temperature
    assert session["title"] == poet.label
    own = await create_session(client, token, preset="poet", temperature=0.1, title="Mine")
    assert own["temperature"] == 0.1
    assert own["title"] == "Mine"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"preset": "nope"}, "unknown preset"),
        ({"model_alias": "gpt-99"}, "unknown model"),
        ({"temperature": 3}, "less than or equal to 2"),
        ({"temperature": -0.1}, "greater than or equal to 0"),
        ({"system_prompt": "x" * 4001}, "at most 4000"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
async def test_create_rejects_bad_options(
    client: httpx.AsyncClient, body: dict[str, object], fragment: str
) -> None:
    token = await user_token(client)
    response = await client.post("/api/v1/chat/sessions", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert fragment in str(response.json()["detail"])


async def test_list_rename_delete(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    first = await create_session(client, token, title="first")
    second = await create_session(client, token, title="second")
    listed = (await client.get("/api/v1/chat/sessions", headers=bearer(token))).json()
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    renamed = await client.patch(
        f"/api/v1/chat/sessions/{first['id']}",
        json={"title": "  renamed  ", "temperature": 1.2},
        headers=bearer(token),
    )
    assert renamed.json()["title"] == "renamed"
    assert renamed.json()["temperature"] == 1.2
    assert (
        await client.delete(f"/api/v1/chat/sessions/{first['id']}", headers=bearer(token))
    ).status_code == 204
    listed = (await client.get("/api/v1/chat/sessions", headers=bearer(token))).json()
    assert [s["id"] for s in listed] == [second["id"]]


async def test_other_users_sessions_are_invisible(client: httpx.AsyncClient) -> None:
    owner = await user_token(client)
    stranger = await user_token(client)
    session = await create_session(client, owner)
    for method, path in [
        ("GET", f"/api/v1/chat/sessions/{session['id']}"),
        ("DELETE", f"/api/v1/chat/sessions/{session['id']}"),
        ("GET", f"/api/v1/chat/sessions/{session['id']}/export"),
    ]:
        response = await client.request(method, path, headers=bearer(stranger))
        assert response.status_code == 404
        assert response.json()["detail"] == "no such chat session"


async def test_presets_and_models_are_listed(client: httpx.AsyncClient) -> None:
    presets = (await client.get("/api/v1/chat/presets")).json()
    assert {p["category"] for p in presets} == {"Coding", "Creative", "Legal-lite"}
    assert len(presets) == 6
    models = (await client.get("/api/v1/chat/models")).json()
    assert models["state"] in {"ready", "fallback", "loading"}


async def test_end_session_blocks_new_prompts(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    ended = await client.post(
        f"/api/v1/chat/sessions/{session['id']}/end",
        json={"save_transcript": True},
        headers=bearer(token),
    )
    assert ended.status_code == 200
    assert ended.json()["ended_at"] is not None
    assert ended.json()["save_transcript"] is True


async def test_openapi_describes_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in [
        "/api/v1/auth/login",
        "/api/v1/chat/sessions",
        "/api/v1/chat/sessions/{session_id}",
    ]:
        assert path in spec["paths"]
