"""The README's paste curl examples, run as written against the live server."""

from __future__ import annotations

import json

import httpx

from tests.helpers import README, readme_commands, shell

MARKER = "<!-- pastes-curl:"


async def test_readme_curl_examples(client: httpx.AsyncClient, live_server: str) -> None:
    commands = readme_commands(MARKER)
    assert len(commands) == 3
    host = live_server.removeprefix("http://").rstrip("/")
    outputs = [await shell(c.replace("localhost:8000", host)) for c in commands]
    from_file, from_pipe = outputs[0].strip(), outputs[1].strip()
    assert (await client.get(from_file + "/raw")).text == README.read_text()
    assert (await client.get(from_pipe + "/raw")).text == "hello from a pipe\n"
    created = json.loads(outputs[2])
    assert created["language"] == "python"
    raw = await client.get(created["raw_url"], headers={"X-Paste-Password": "s3cret"})
    assert raw.text == "print(1)"
