"""Reports and takedowns, run-time moderation lists: members refused, admins audited."""

from __future__ import annotations

import asyncio

import httpx

from meatlizard.auth.models import User
from meatlizard.core.errors import Refused
from meatlizard.runtime import Services
from tests.helpers import bearer, create_session, user_token


async def _paste(client: httpx.AsyncClient, token: str) -> str:
    made = await client.post(
        "/api/v1/pastes", json={"content": "spam spam spam"}, headers=bearer(token)
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_report_then_take_down_a_paste(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)
    member = await user_token(client)
    other = await user_token(client)
    paste_id = await _paste(client, member)
    bad_kind = await client.post(
        "/api/v1/reports",
        json={"content_type": "poem", "content_id": paste_id, "reason": "rude"},
        headers=bearer(other),
    )
    assert bad_kind.status_code == 422 and "content_type must be one of" in bad_kind.text
    missing = await client.post(
        "/api/v1/reports",
        json={"content_type": "paste", "content_id": "nope", "reason": "rude"},
        headers=bearer(other),
    )
    assert missing.status_code == 404
    reports = []
    for reporter in (other, admin):
        filed = await client.post(
            "/api/v1/reports",
            json={"content_type": "paste", "content_id": paste_id, "reason": "spam"},
            headers=bearer(reporter),
        )
        assert filed.status_code == 201, filed.text
        reports.append(filed.json()["id"])

    refused = await client.post(
        f"/api/v1/admin/reports/{reports[0]}/takedown", headers=bearer(member)
    )
    assert refused.status_code == 403
    assert (await client.get("/api/v1/admin/reports", headers=bearer(member))).status_code == 403
    listed = await client.get("/api/v1/admin/reports?status=open", headers=bearer(admin))
    assert sorted(r["id"] for r in listed.json()) == sorted(reports)

    assert (await client.get(f"/p/{paste_id}/raw")).status_code == 200  # read, so cached
    taken = await client.post(f"/api/v1/admin/reports/{reports[0]}/takedown", headers=bearer(admin))
    assert taken.status_code == 200, taken.text
    assert {r["status"] for r in taken.json()} == {"taken_down"}
    assert len(taken.json()) == 2  # every open report about it is closed
    assert (await client.get(f"/p/{paste_id}/raw")).status_code == 404
    again = await client.post(f"/api/v1/admin/reports/{reports[1]}/dismiss", headers=bearer(admin))
    assert again.status_code == 422 and "already taken down" in again.text
    audit = (await client.get("/api/v1/admin/audit", headers=bearer(admin))).json()
    assert audit[0]["action"] == "content.takedown"
    assert audit[0]["target"] == f"paste:{paste_id}"
    page = await client.get("/admin", headers=bearer(admin))
    assert "Content reports" in page.text


async def test_dismiss_keeps_the_content(client: httpx.AsyncClient) -> None:
    admin = await user_token(client)
    member = await user_token(client)
    paste_id = await _paste(client, member)
    filed = await client.post(
        "/api/v1/reports",
        json={"content_type": "paste", "content_id": paste_id, "reason": "I dislike it"},
        headers=bearer(member),
    )
    dismissed = await client.post(
        f"/api/v1/admin/reports/{filed.json()['id']}/dismiss", headers=bearer(admin)
    )
    assert [r["status"] for r in dismissed.json()] == ["dismissed"]
    assert (await client.get(f"/p/{paste_id}/raw")).status_code == 200
    audit = (await client.get("/api/v1/admin/audit", headers=bearer(admin))).json()
    assert audit[0]["action"] == "report.dismiss"


async def test_moderation_lists_apply_to_the_next_prompt(
    services: Services, client: httpx.AsyncClient
) -> None:
    admin = await user_token(client)
    member = await user_token(client)
    body = {"words": ["forbidden"], "patterns": ["secret\\d+"]}
    assert (
        await client.put("/api/v1/admin/moderation", json=body, headers=bearer(member))
    ).status_code == 403
    broken = await client.put(
        "/api/v1/admin/moderation", json={"patterns": ["("]}, headers=bearer(admin)
    )
    assert broken.status_code == 422 and "not a valid regular expression" in broken.text
    saved = await client.put("/api/v1/admin/moderation", json=body, headers=bearer(admin))
    assert saved.json() == body
    assert (await client.get("/api/v1/admin/moderation", headers=bearer(admin))).json() == body

    session = await create_session(client, member)
    me = (await client.get("/api/v1/auth/me", headers=bearer(member))).json()
    async with services.sessions() as db:
        user = await db.get(User, me["id"])
    assert user is not None

    async def ask(prompt: str) -> list[object]:
        events = services.chat.answer(
            user=user, session_id=session["id"], prompt=prompt, cancel=asyncio.Event()
        )
        return [event async for event in events]

    for prompt in ("this is FORBIDDEN talk", "tell me secret42"):
        try:
            await ask(prompt)
        except Refused:
            continue
        raise AssertionError(f"{prompt!r} was not refused")
    assert await ask("forbiddenly innocent")  # whole words only
    audit = (await client.get("/api/v1/admin/audit", headers=bearer(admin))).json()
    assert audit[0]["action"] == "moderation.update"


async def test_patterns_the_guard_cannot_run_are_refused_when_saved(
    client: httpx.AsyncClient,
) -> None:
    admin = await user_token(client)
    for bad, reason in [
        ("(", "missing )"),
        (r"(?<=a)b", "invalid perl operator"),  # look-behind: RE2 cannot run it
        (r"(a)\1", "invalid escape sequence"),  # a backreference
    ]:
        refused = await client.put(
            "/api/v1/admin/moderation",
            json={"words": ["fine"], "patterns": ["ok\\d", bad]},
            headers=bearer(admin),
        )
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert f"pattern {bad!r} is not a valid regular expression" in body["detail"]
        assert reason in body["detail"]
        [problem] = body["errors"]
        assert problem["loc"] == ["body", "patterns", 1]
        assert problem["type"] == "value_error"
    stored = (await client.get("/api/v1/admin/moderation", headers=bearer(admin))).json()
    assert stored == {"words": [], "patterns": []}  # nothing of a refused list was kept

    # Backtracking shapes and an inline flag mid-pattern run safely on RE2: accepted.
    harmless = {"words": [], "patterns": [r"(a+)+$", r"x(?i)ray"]}
    saved = await client.put("/api/v1/admin/moderation", json=harmless, headers=bearer(admin))
    assert saved.status_code == 200, saved.text
    assert saved.json() == harmless
