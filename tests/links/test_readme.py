"""The README's link curl examples, run as written against the live server."""

from __future__ import annotations

import json

import httpx

from tests.helpers import README, readme_commands, shell

MARKER = "<!-- links-curl:"


async def test_readme_link_examples(client: httpx.AsyncClient, live_server: str) -> None:
    commands = readme_commands(MARKER)
    assert len(commands) == 3
    host = live_server.removeprefix("http://").rstrip("/")
    outputs = [await shell(c.replace("localhost:8000", host)) for c in commands]
    plain, custom = outputs[0].strip(), outputs[1].strip()
    assert plain.startswith(f"{live_server}/s/")
    first = await client.get(plain)
    assert first.headers["location"] == "https://example.com/a/very/long/page"
    assert custom == f"{live_server}/s/team-docs"
    assert (await client.get(custom)).headers["location"] == "https://example.com/docs"
    created = json.loads(outputs[2])
    assert created["has_password"] is True
    assert created["expires_at"].startswith("2099-01-01")
    opened = await client.get(created["short_url"], headers={"X-Link-Password": "s3cret"})
    assert opened.headers["location"] == "https://example.com/private"
    assert README.is_file()
