"""Guards on every prompt: moderation, rate limit, length, the admin switch, the fallback."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets

from tests.helpers import bearer, collect_answer, create_session, socket_url, user_token


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "moderation_words": ["forbiddenword"],
        "moderation_patterns": [r"\bsecret\s+plans?\b"],
        "chat_rate_limit": "3/day",  # a day: the sliding window keeps the count for the whole test
        "max_prompt_chars": 50,
    }


async def _ask(
    live_server: str, token: str, session_id: str, frame: dict[str, object]
) -> list[dict[str, object]]:
    async with websockets.connect(
        socket_url(live_server, session_id), additional_headers=bearer(token)
    ) as ws:
        await ws.send(json.dumps(frame))
        return await collect_answer(ws)


async def test_fallback_answers_are_labelled(client: httpx.AsyncClient, live_server: str) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    frames = await _ask(live_server, token, session["id"], {"prompt": "hello there lizard"})
    assert frames[0] == {
        "type": "start",
        "model": "markov-fallback",
        "fallback": True,
        "prompt_id": frames[0]["prompt_id"],
    }
    assert frames[-1]["type"] == "done"
    assert frames[-1]["fallback"] is True
    detail = (
        await client.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
    ).json()
    assert detail["messages"][-1]["is_fallback"] is True


@pytest.mark.parametrize(
    ("prompt", "code", "fragment"),
    [
        ("tell me the forbiddenword now", "refused", "content rules"),
        ("what are the SECRET   plans", "refused", "content rules"),
        ("x" * 51, "invalid", "the limit is 50"),
        ("   ", "invalid", "the prompt is empty"),
    ],
)
async def test_bad_prompts_are_refused_and_not_stored(
    client: httpx.AsyncClient, live_server: str, prompt: str, code: str, fragment: str
) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    frames = await _ask(live_server, token, session["id"], {"prompt": prompt})
    assert frames == [{"type": "error", "code": code, "message": frames[0]["message"]}]
    assert fragment in str(frames[0]["message"])
    detail = (
        await client.get(f"/api/v1/chat/sessions/{session['id']}", headers=bearer(token))
    ).json()
    assert detail["messages"] == []


async def test_rate_limit_refuses_after_the_budget(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    async with websockets.connect(
        socket_url(live_server, session["id"]), additional_headers=bearer(token)
    ) as ws:
        for _ in range(3):
            await ws.send(json.dumps({"prompt": "hello"}))
            assert (await collect_answer(ws))[-1]["type"] == "done"
        await ws.send(json.dumps({"prompt": "hello"}))
        refused = await collect_answer(ws)
    assert refused[-1]["code"] == "rate_limited"
    assert refused[-1]["retry_after"] > 0
    # Another user still has their own budget.
    other = await user_token(client)
    other_session = await create_session(client, other)
    frames = await _ask(live_server, other, other_session["id"], {"prompt": "hello"})
    assert frames[-1]["type"] == "done"


async def test_admin_switch_pauses_and_resumes_requests(
    client: httpx.AsyncClient, live_server: str
) -> None:
    admin = await user_token(client)  # the first account is the admin
    member = await user_token(client)
    session = await create_session(client, member)
    forbidden = await client.put(
        "/api/v1/admin/requests", json={"enabled": False}, headers=bearer(member)
    )
    assert forbidden.status_code == 403
    paused = await client.put(
        "/api/v1/admin/requests", json={"enabled": False}, headers=bearer(admin)
    )
    assert paused.json() == {"enabled": False}
    frames = await _ask(live_server, member, session["id"], {"prompt": "hello"})
    assert frames[-1]["code"] == "refused"
    assert "paused" in str(frames[-1]["message"])
    await client.put("/api/v1/admin/requests", json={"enabled": True}, headers=bearer(admin))
    frames = await _ask(live_server, member, session["id"], {"prompt": "hello"})
    assert frames[-1]["type"] == "done"
    audit = (await client.get("/api/v1/admin/audit", headers=bearer(admin))).json()
    assert [e["action"] for e in audit[:2]] == ["requests.enable", "requests.disable"]


async def test_ended_session_refuses_prompts(client: httpx.AsyncClient, live_server: str) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    await client.post(
        f"/api/v1/chat/sessions/{session['id']}/end",
        json={"save_transcript": False},
        headers=bearer(token),
    )
    frames = await _ask(live_server, token, session["id"], {"prompt": "hello"})
    assert "has ended" in str(frames[-1]["message"])


async def test_regenerate_without_a_prompt_is_refused(
    client: httpx.AsyncClient, live_server: str
) -> None:
    token = await user_token(client)
    session = await create_session(client, token)
    frames = await _ask(live_server, token, session["id"], {"type": "regenerate"})
    assert frames[-1]["code"] == "invalid"
    assert "no prompt" in str(frames[-1]["message"])


async def test_export_markdown_and_json(client: httpx.AsyncClient, live_server: str) -> None:
    token = await user_token(client)
    session = await create_session(client, token, title="Export me", preset="poet")
    await _ask(live_server, token, session["id"], {"prompt": "a <b>bold</b> request"})
    md = await client.get(
        f"/api/v1/chat/sessions/{session['id']}/export?format=md", headers=bearer(token)
    )
    assert md.headers["content-type"].startswith("text/markdown")
    assert "attachment" in md.headers["content-disposition"]
    assert md.text.startswith("# Export me")
    assert "a <b>bold</b> request" in md.text
    exported = (
        await client.get(
            f"/api/v1/chat/sessions/{session['id']}/export?format=json", headers=bearer(token)
        )
    ).json()
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant"]
    assert exported["preset"] == "poet"
    bad = await client.get(
        f"/api/v1/chat/sessions/{session['id']}/export?format=pdf", headers=bearer(token)
    )
    assert bad.status_code == 422
