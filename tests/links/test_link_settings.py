"""Operator settings for links: redirect status, public base URL, blocklist, anonymity, rate."""

from __future__ import annotations

import httpx
import pytest

from meatlizard.core.settings import SettingsError, load_settings
from tests.helpers import bearer, user_token
from tests.links.helpers import TARGET, follow

PUBLIC = "https://meat.example"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "link_redirect_status": 301,
        "link_public_base_url": PUBLIC + "/",
        "link_blocked_domains": ["bad.example"],
        "link_allow_anonymous": False,
        "link_rate_limit": "5/day",  # refused attempts count too
    }


async def test_link_settings(client: httpx.AsyncClient) -> None:
    anonymous = await client.post("/api/v1/links", json={"url": TARGET})
    assert anonymous.status_code == 401
    auth = bearer(await user_token(client))
    for url in ["https://bad.example/x", "http://deep.sub.BAD.example/"]:
        blocked = await client.post("/api/v1/links", json={"url": url}, headers=auth)
        assert blocked.status_code == 422
        assert "blocked" in blocked.json()["detail"]
    loop = await client.post("/api/v1/links", json={"url": f"{PUBLIC}/s/x"}, headers=auth)
    assert loop.status_code == 422 and "loop" in loop.json()["detail"]
    lookalike = await client.post(
        "/api/v1/links", json={"url": "https://notbad.example/"}, headers=auth
    )
    assert lookalike.status_code == 201
    link = lookalike.json()
    assert link["short_url"] == f"{PUBLIC}/s/{link['slug']}"
    redirect = await follow(client, link["slug"])
    assert redirect.status_code == 301
    assert redirect.headers["cache-control"] == "public, max-age=3600"
    await client.post("/api/v1/links", json={"url": TARGET}, headers=auth)
    limited = await client.post("/api/v1/links", json={"url": TARGET}, headers=auth)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("LINK_REDIRECT_STATUS", 200, "LINK_REDIRECT_STATUS"),
        ("LINK_PUBLIC_BASE_URL", "meat.example", "LINK_PUBLIC_BASE_URL"),
        ("LINK_BLOCKED_DOMAINS", ["bad example"], "LINK_BLOCKED_DOMAINS"),
        ("LINK_RATE_LIMIT", "lots", "LINK_RATE_LIMIT"),
    ],
)
def test_bad_settings_name_the_setting(name: str, value: object, reason: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**{name.lower(): value})
    assert reason in str(caught.value)
