"""Concurrent uploads cannot both take the last free bytes of a quota; admins' edits are audited."""

from __future__ import annotations

import asyncio

import httpx

from meatlizard.runtime import Services
from tests.files.helpers import create, stored_keys
from tests.helpers import bearer, user_token

QUOTA = 1000
PIECE = 400  # two fit, a third does not
ATTEMPTS = 6


async def _member_with_quota(client: httpx.AsyncClient) -> tuple[str, str, int]:
    admin = await user_token(client)
    token = await user_token(client)
    me = (await client.get("/api/v1/files/quota", headers=bearer(token))).json()
    changed = await client.put(
        f"/api/v1/files/quotas/{me['user_id']}", json={"quota_bytes": QUOTA}, headers=bearer(admin)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "user_id": me["user_id"],
        "used_bytes": 0,
        "quota_bytes": QUOTA,
        "custom": True,
    }
    return admin, token, int(me["user_id"])


async def test_concurrent_tus_creations_reserve_atomically(client: httpx.AsyncClient) -> None:
    _, token, _ = await _member_with_quota(client)
    answers = await asyncio.gather(*(create(client, token, PIECE) for _ in range(ATTEMPTS)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 201] + [413] * (ATTEMPTS - 2), [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 413)
    assert "storage quota exceeded" in refused.json()["detail"]
    usage = (await client.get("/api/v1/files/quota", headers=bearer(token))).json()
    assert usage["used_bytes"] == 2 * PIECE <= QUOTA
    listed = (await client.get("/api/v1/files", headers=bearer(token))).json()
    assert len(listed) == 2


async def test_concurrent_one_shot_uploads_stay_within_quota(
    client: httpx.AsyncClient, services: Services
) -> None:
    _, token, _ = await _member_with_quota(client)

    async def put(i: int) -> httpx.Response:
        return await client.put(
            f"/api/v1/files/part{i}.bin", content=bytes([i]) * PIECE, headers=bearer(token)
        )

    answers = await asyncio.gather(*(put(i) for i in range(ATTEMPTS)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 201] + [413] * (ATTEMPTS - 2), [a.text for a in answers]
    usage = (await client.get("/api/v1/files/quota", headers=bearer(token))).json()
    assert usage["used_bytes"] == 2 * PIECE
    # The refused uploads' objects were removed: only the two kept files remain stored.
    assert len(await stored_keys(services)) == 2


async def test_quota_changes_are_audited_and_reset(client: httpx.AsyncClient) -> None:
    admin, _, user_id = await _member_with_quota(client)
    reset = await client.put(
        f"/api/v1/files/quotas/{user_id}", json={"quota_bytes": None}, headers=bearer(admin)
    )
    assert reset.json()["custom"] is False
    missing = await client.put(
        "/api/v1/files/quotas/99999", json={"quota_bytes": 5}, headers=bearer(admin)
    )
    assert missing.status_code == 404
    negative = await client.put(
        f"/api/v1/files/quotas/{user_id}", json={"quota_bytes": -1}, headers=bearer(admin)
    )
    assert negative.status_code == 422
    audit = (await client.get("/api/v1/admin/audit", headers=bearer(admin))).json()
    quota_entries = [e for e in audit if e["action"] == "files.quota"]
    assert len(quota_entries) == 2
    assert quota_entries[0]["detail"] == {"before": QUOTA, "after": None}
    assert quota_entries[1]["detail"] == {"before": None, "after": QUOTA}
