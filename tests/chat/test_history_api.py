"""Chat history as a tree over the API: answer versions, edited prompts, the shown branch,
titles, renaming and search; and the model's context is the shown branch only."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import websockets

from tests.chat.scripted import ScriptedInference
from tests.helpers import bearer, collect_answer, create_session, socket_url, user_token


@pytest.fixture
def shared_inference() -> ScriptedInference:
    return ScriptedInference(["answer {n}"])


async def _detail(client: httpx.AsyncClient, token: str, session_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/chat/sessions/{session_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _turns(live_server: str, token: str, session_id: str, *frames: dict[str, Any]) -> None:
    async with websockets.connect(
        socket_url(live_server, session_id), additional_headers=bearer(token)
    ) as ws:
        for frame in frames:
            await ws.send(json.dumps(frame))
            answer = await collect_answer(ws)
            assert answer[-1]["type"] == "done", answer[-1]


def _texts(detail: dict[str, Any]) -> list[str]:
    return [m["content"] for m in detail["messages"]]


async def test_regenerate_keeps_every_version_and_remembers_the_shown_one(
    client: httpx.AsyncClient, live_server: str, shared_inference: ScriptedInference
) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    regenerate = {"type": "regenerate"}
    await _turns(live_server, token, session["id"], {"prompt": "hi"}, regenerate, regenerate)
    detail = await _detail(client, token, session["id"])
    assert _texts(detail) == ["hi", "answer 3"]
    versions = detail["messages"][1]["versions"]
    assert len(versions) == 3
    shown = await client.post(
        f"/api/v1/chat/sessions/{session['id']}/show",
        json={"message_id": versions[0]},
        headers=bearer(token),
    )
    assert shown.status_code == 200, shown.text
    assert _texts(shown.json()) == ["hi", "answer 1"]
    assert _texts(await _detail(client, token, session["id"])) == ["hi", "answer 1"]

    # Exports carry every version; the Markdown one reads as the shown conversation.
    exported = await client.get(
        f"/api/v1/chat/sessions/{session['id']}/export?format=json", headers=bearer(token)
    )
    doc = exported.json()
    assert [m["content"] for m in doc["messages"]] == ["hi", "answer 1"]
    assert doc["messages"][1]["versions"] == 3
    assert sorted(m["content"] for m in doc["other_versions"]) == ["answer 2", "answer 3"]
    markdown = await client.get(
        f"/api/v1/chat/sessions/{session['id']}/export?format=md", headers=bearer(token)
    )
    assert "version 1 of 3" in markdown.text and "answer 2" not in markdown.text


async def test_edit_starts_a_branch_and_the_model_sees_only_the_shown_one(
    client: httpx.AsyncClient, live_server: str, shared_inference: ScriptedInference
) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    await _turns(live_server, token, session["id"], {"prompt": "first"}, {"prompt": "second"})
    old = await _detail(client, token, session["id"])
    second = old["messages"][2]
    await _turns(
        live_server,
        token,
        session["id"],
        {"type": "edit", "message_id": second["id"], "prompt": "second, edited"},
    )
    edited = await _detail(client, token, session["id"])
    assert _texts(edited) == ["first", "answer 1", "second, edited", "answer 3"]
    assert edited["messages"][2]["versions"] == [second["id"], edited["messages"][2]["id"]]

    # Back to the old branch: the next turn's context holds it, not the edited one.
    await client.post(
        f"/api/v1/chat/sessions/{session['id']}/show",
        json={"message_id": second["id"]},
        headers=bearer(token),
    )
    assert _texts(await _detail(client, token, session["id"])) == [
        "first",
        "answer 1",
        "second",
        "answer 2",
    ]
    await _turns(live_server, token, session["id"], {"prompt": "third"})
    context = shared_inference.conversations[-1]
    assert [(t.role, t.content) for t in context.turns] == [
        ("user", "first"),
        ("assistant", "answer 1"),
        ("user", "second"),
        ("assistant", "answer 2"),
        ("user", "third"),
    ]
    # Regenerating answers the shown prompt with the shown branch before it.
    await _turns(live_server, token, session["id"], {"type": "regenerate"})
    assert [t.content for t in shared_inference.conversations[-1].turns] == [
        "first",
        "answer 1",
        "second",
        "answer 2",
        "third",
    ]


async def test_edit_refuses_a_message_of_another_chat(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await user_token(client)
    mine = await create_session(client, token)
    other = await create_session(client, token)
    await _turns(live_server, token, other["id"], {"prompt": "elsewhere"})
    foreign = (await _detail(client, token, other["id"]))["messages"][0]["id"]
    async with websockets.connect(
        socket_url(live_server, mine["id"]), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps({"type": "edit", "message_id": foreign, "prompt": "x"}))
        frames = await collect_answer(ws)
    assert frames[-1]["code"] == "not_found"
    assert (await _detail(client, token, mine["id"]))["messages"] == []
    missing = await client.post(
        f"/api/v1/chat/sessions/{mine['id']}/show",
        json={"message_id": foreign},
        headers=bearer(token),
    )
    assert missing.status_code == 404


async def test_a_preset_chat_is_titled_by_its_first_prompt_until_renamed(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await user_token(client)
    session = await create_session(client, token, preset="poet")
    await _turns(live_server, token, session["id"], {"prompt": "A poem about   lizards"})
    assert (await _detail(client, token, session["id"]))["title"] == "A poem about lizards"
    renamed = await client.patch(
        f"/api/v1/chat/sessions/{session['id']}",
        json={"title": "Lizard poems"},
        headers=bearer(token),
    )
    assert renamed.json()["title"] == "Lizard poems"
    await _turns(live_server, token, session["id"], {"prompt": "another"})
    assert (await _detail(client, token, session["id"]))["title"] == "Lizard poems"
    named = await create_session(client, token, preset="poet", title="Chosen")
    await _turns(live_server, token, named["id"], {"prompt": "not a title"})
    assert (await _detail(client, token, named["id"]))["title"] == "Chosen"


async def test_search_finds_chats_by_title_and_content_of_their_owner_only(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await user_token(client)
    by_text = await create_session(client, token, title="Reptiles")
    by_title = await create_session(client, token, title="All about Iguanas")
    await create_session(client, token, title="Unrelated")
    await _turns(live_server, token, by_text["id"], {"prompt": "Tell me about the IGUANA diet"})
    stranger = await user_token(client)
    await create_session(client, stranger, title="iguana too")

    async def search(q: str, who: str = token) -> list[str]:
        response = await client.get("/api/v1/chat/sessions", params={"q": q}, headers=bearer(who))
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()]

    assert sorted(await search("iguana")) == sorted([by_text["id"], by_title["id"]])
    assert await search("100%_sure") == []  # LIKE wildcards are taken literally
    assert len(await search("")) == 3
    assert len(await search("iguana", stranger)) == 1
