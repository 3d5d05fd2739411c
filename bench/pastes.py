"""Pastebin throughput: `meatlizard serve` next to pinnwand, both real subprocesses.

Anchor: pinnwand 1.5.0 (PyPI, pinned in bench/requirements-pinnwand.txt, its own venv)
on SQLite, rate limits lifted. Measured: `meatlizard serve` on its embedded default
(SQLite, in-process cache, local storage; model loaded before timing), paste rate limit
lifted. Both get the same Python source to store with an explicit language, the same
number of requests and the same concurrency, from one httpx client in this process.
Rounds alternate the two servers; the best round of each is reported.

    .venv/bin/python bench/pastes.py [--pastes 400] [--concurrency 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PINNWAND = ROOT / ".venv-bench" / "bin" / "python"
SOURCE = "".join(
    f"def step_{n}(value: int) -> int:\n    '''Step {n}.'''\n    return value * {n} + 1\n\n"
    for n in range(40)
)  # about 2.7 KB of Python
PINNWAND_CONFIG = """database_uri = "sqlite:///{db}"
paste_size = 1048576
[ratelimit.read]
capacity = 100000000
consume = 1
refill = 100000000
[ratelimit.create]
capacity = 100000000
consume = 1
refill = 100000000
[ratelimit.delete]
capacity = 100000000
consume = 1
refill = 100000000
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A pastebin under test: how to create a paste and where to read it."""

    name: str
    base: str
    create: Callable[[httpx.AsyncClient], Awaitable[str]]  # returns the paste's key
    raw_path: Callable[[str], str]
    view_path: Callable[[str], str]


async def _meatlizard_create(http: httpx.AsyncClient) -> str:
    body = {"content": SOURCE, "language": "python", "expires_in": "1d"}
    response = await http.post("/api/v1/pastes", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


async def _pinnwand_create(http: httpx.AsyncClient) -> str:
    body = {"expiry": "1day", "files": [{"lexer": "python", "content": SOURCE}]}
    response = await http.post("/api/v1/paste", json=body)
    response.raise_for_status()
    return str(response.json()["link"]).rstrip("/").rsplit("/", 1)[1]


async def wait_up(base: str, path: str, ready: Callable[[httpx.Response], bool]) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(1200):
            try:
                if ready(await http.get(path)):
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{base} did not come up")


def _model_ready(response: httpx.Response) -> bool:
    return bool(response.json()["inference"]["state"] == "ready")


def launch_meatlizard(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    """Migrate a fresh data folder and start `meatlizard serve` as `make run` would."""
    env = {
        **os.environ,
        "DATA_DIR": str(tmp / "meatlizard"),
        "PASTE_RATE_LIMIT": "100000000/minute",
        "LOG_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "meatlizard"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    return subprocess.Popen([*cli, "serve", "--port", str(port)], env=env)


async def start_meatlizard(tmp: Path) -> tuple[subprocess.Popen[bytes], Server]:
    port = free_port()
    proc = launch_meatlizard(tmp, port)
    base = f"http://127.0.0.1:{port}"
    await wait_up(base, "/readyz", _model_ready)
    server = Server(
        "meatlizard", base, _meatlizard_create, lambda k: f"/p/{k}/raw", lambda k: f"/p/{k}"
    )
    return proc, server


def serve_args(port: int) -> list[str]:
    return ["http", "--port", str(port)]


def launch_pinnwand(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    """Start pinnwand on a fresh SQLite file with its rate limits lifted."""
    if subprocess.run([str(PINNWAND), "-c", "import pinnwand"], check=False).returncode:
        raise SystemExit("pinnwand is missing: run `make bench-pastes` once")
    config = tmp / "pinnwand.toml"
    config.write_text(PINNWAND_CONFIG.format(db=tmp / "pinnwand.db"))
    return subprocess.Popen(
        [str(PINNWAND), "-m", "pinnwand", "--configuration-path", str(config), *serve_args(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def start_pinnwand(tmp: Path) -> tuple[subprocess.Popen[bytes], Server]:
    port = free_port()
    proc = launch_pinnwand(tmp, port)
    base = f"http://127.0.0.1:{port}"
    await wait_up(base, "/api/v1/expiry", lambda r: r.status_code == 200)
    server = Server("pinnwand", base, _pinnwand_create, lambda k: f"/raw/{k}", lambda k: f"/{k}")
    return proc, server


async def _run(count: int, concurrency: int, one: Callable[[int], Awaitable[object]]) -> float:
    """Run `count` calls, `concurrency` at a time; return calls per second."""
    queue = iter(range(count))

    async def worker() -> None:
        for n in queue:
            await one(n)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - start)


async def _read(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    response.raise_for_status()


async def measure(server: Server, pastes: int, concurrency: int) -> dict[str, float]:
    """Return create, raw-read and page-view throughput (requests/s)."""
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=60) as http:
        keys: list[str] = []

        async def create(_: int) -> None:
            keys.append(await server.create(http))

        made = await _run(pastes, concurrency, create)
        raw = await _run(pastes, concurrency, lambda n: _read(http, server.raw_path(keys[n])))
        view = await _run(pastes, concurrency, lambda n: _read(http, server.view_path(keys[n])))
    return {"create": made, "raw read": raw, "page view": view}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pastes", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    best: dict[str, dict[str, float]] = {"meatlizard": {}, "pinnwand": {}}
    with tempfile.TemporaryDirectory() as scratch:
        for round_no in range(args.rounds):
            for start in (start_pinnwand, start_meatlizard):
                tmp = Path(scratch) / f"{start.__name__}-{round_no}"
                tmp.mkdir()
                proc, server = await start(tmp)
                try:
                    result = await measure(server, args.pastes, args.concurrency)
                finally:
                    proc.terminate()
                    proc.wait()
                for kind, rate in result.items():
                    best[server.name][kind] = max(best[server.name].get(kind, 0.0), rate)
    print(
        f"{args.pastes} pastes of {len(SOURCE)} bytes (python), concurrency "
        f"{args.concurrency}, best of {args.rounds} rounds, requests/s"
    )
    print(f"{'':12}{'meatlizard':>12}{'pinnwand':>12}{'ratio':>8}")
    for kind in ("create", "raw read", "page view"):
        ours, theirs = best["meatlizard"][kind], best["pinnwand"][kind]
        print(f"{kind:12}{ours:12.1f}{theirs:12.1f}{ours / theirs:8.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
