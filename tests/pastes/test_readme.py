"""The README's paste curl examples, run as written against the live server."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- pastes-curl:"


def readme_commands(marker: str = MARKER) -> list[str]:
    """Return the shell commands of a README block (continuations joined)."""
    text = README.read_text()
    block = re.search(re.escape(marker) + r".*?```sh\n(.*?)```", text, re.S)
    assert block is not None, f"README lost its {marker} curl block"
    return [c.strip() for c in block.group(1).replace("\\\n", " ").splitlines() if c.strip()]


async def _sh(command: str) -> str:
    proc = await asyncio.create_subprocess_shell(
        command,
        cwd=README.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_readme_curl_examples(client: httpx.AsyncClient, live_server: str) -> None:
    commands = readme_commands()
    assert len(commands) == 3
    host = live_server.removeprefix("http://").rstrip("/")
    outputs = [await _sh(c.replace("localhost:8000", host)) for c in commands]
    from_file, from_pipe = outputs[0].strip(), outputs[1].strip()
    assert (await client.get(from_file + "/raw")).text == README.read_text()
    assert (await client.get(from_pipe + "/raw")).text == "hello from a pipe\n"
    created = json.loads(outputs[2])
    assert created["language"] == "python"
    raw = await client.get(created["raw_url"], headers={"X-Paste-Password": "s3cret"})
    assert raw.text == "print(1)"
