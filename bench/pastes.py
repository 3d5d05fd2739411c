"""Pastebin throughput: `meatlizard serve` next to pinnwand, both real subprocesses.

Anchor: pinnwand 1.5.0 (PyPI, pinned in bench/requirements-pinnwand.txt, its own venv)
on SQLite, rate limits lifted. Measured: `meatlizard serve` on its embedded default
(SQLite, in-process cache, local storage, one highlighting helper process; model loaded
before timing), paste rate limit lifted; other settings (PASTE_HIGHLIGHT_PROCESSES=0 ...)
pass through from the environment. Both get the same pastes: about 3 KB of Python each,
every one different (no content-keyed cache can help), stored with an explicit language.

Creates: one httpx client in this process, `--concurrency` at a time. Reads: wrk (Debian
package) with a Lua script cycling over every created paste's raw text, then its page,
for `--duration` seconds each; no cookies, so every page view is a first visit. Rounds
alternate the two servers on fresh databases; the best round of each is reported, with the
server's CPU time per request (user + system of the process and its children), which load
from elsewhere on the 2 cores disturbs much less than requests/s.

    .venv/bin/python bench/pastes.py [--pastes 400] [--concurrency 16] [--duration 10]
        [--connections 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
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
KINDS = ("create", "raw read", "page view")
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
# Cycles over the paths in the file named after `--`, one request each.
WRK_SCRIPT = """
local paths, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def source(seed: int) -> str:
    """Return about 3 KB of Python that no other paste of the run shares."""
    return "".join(
        f"def step_{seed}_{n}(value: int) -> int:\n"
        f"    '''Step {n} of pipeline {seed}.'''\n"
        f"    return value * {n * 7919 + seed} + {seed % 97}\n\n"
        for n in range(30)
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) of a process and all its descendants so far."""
    total = 0.0
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        fields = stat.read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    return total


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


@dataclass
class Server:
    """A pastebin under test: how to create a paste and where to read it."""

    name: str
    base: str
    pid: int
    create: Callable[[httpx.AsyncClient, str], Awaitable[str]]  # returns the paste's key
    raw_path: Callable[[str], str]
    view_path: Callable[[str], str]


async def _meatlizard_create(http: httpx.AsyncClient, content: str) -> str:
    body = {"content": content, "language": "python", "expires_in": "1d"}
    response = await http.post("/api/v1/pastes", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


async def _pinnwand_create(http: httpx.AsyncClient, content: str) -> str:
    body = {"expiry": "1day", "files": [{"lexer": "python", "content": content}]}
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
    raw, view = (lambda k: f"/p/{k}/raw"), (lambda k: f"/p/{k}")
    return proc, Server("meatlizard", base, proc.pid, _meatlizard_create, raw, view)


def launch_pinnwand(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    """Start pinnwand on a fresh SQLite file with its rate limits lifted."""
    if subprocess.run([str(PINNWAND), "-c", "import pinnwand"], check=False).returncode:
        raise SystemExit("pinnwand is missing: run `make bench-pastes` once")
    config = tmp / "pinnwand.toml"
    config.write_text(PINNWAND_CONFIG.format(db=tmp / "pinnwand.db"))
    command = [str(PINNWAND), "-m", "pinnwand", "--configuration-path", str(config), "http"]
    return subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def start_pinnwand(tmp: Path) -> tuple[subprocess.Popen[bytes], Server]:
    port = free_port()
    proc = launch_pinnwand(tmp, port)
    base = f"http://127.0.0.1:{port}"
    await wait_up(base, "/api/v1/expiry", lambda r: r.status_code == 200)
    raw, view = (lambda k: f"/raw/{k}"), (lambda k: f"/{k}")
    return proc, Server("pinnwand", base, proc.pid, _pinnwand_create, raw, view)


@dataclass
class Rate:
    """Requests per second and the server's CPU time per request."""

    rps: float
    cpu_us: float


async def create_all(server: Server, contents: list[str], concurrency: int) -> list[str]:
    """Create every paste, `concurrency` at a time; return their keys in order."""
    keys = [""] * len(contents)
    queue = iter(range(len(contents)))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=60) as http:

        async def worker() -> None:
            for n in queue:
                keys[n] = await server.create(http, contents[n])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return keys


def run_wrk(server: Server, paths: list[str], args: argparse.Namespace, tmp: Path) -> Rate:
    """Read every path in turn with wrk for `args.duration` seconds."""
    script, listing = tmp / "cycle.lua", tmp / "paths.txt"
    script.write_text(WRK_SCRIPT)
    listing.write_text("\n".join(paths) + "\n")
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s"]
    cpu = cpu_seconds(server.pid)
    out = subprocess.run(
        [*command, "-s", str(script), server.base, "--", str(listing)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    used = cpu_seconds(server.pid) - cpu
    if "Non-2xx or 3xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors on {server.name}:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Rate(rps, used / requests * 1e6)


async def measure(
    server: Server, contents: list[str], args: argparse.Namespace, tmp: Path
) -> dict[str, Rate]:
    """Return create, raw-read and page-view throughput."""
    cpu, start = cpu_seconds(server.pid), time.perf_counter()
    keys = await create_all(server, contents, args.concurrency)
    elapsed, used = time.perf_counter() - start, cpu_seconds(server.pid) - cpu
    async with httpx.AsyncClient(base_url=server.base) as http:  # the text came back intact
        for n in (0, len(keys) - 1):
            assert (await http.get(server.raw_path(keys[n]))).text == contents[n]
    made = Rate(len(keys) / elapsed, used / len(keys) * 1e6)
    raw = await asyncio.to_thread(run_wrk, server, [server.raw_path(k) for k in keys], args, tmp)
    view = await asyncio.to_thread(run_wrk, server, [server.view_path(k) for k in keys], args, tmp)
    return dict(zip(KINDS, (made, raw, view), strict=True))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pastes", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16, help="of the creating client")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per read kind")
    parser.add_argument("--connections", type=int, default=16, help="of wrk")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (or make bench-pastes as root)")
    before = load_average()
    best: dict[str, dict[str, Rate]] = {"meatlizard": {}, "pinnwand": {}}
    with tempfile.TemporaryDirectory() as scratch:
        for round_no in range(args.rounds):
            first = round_no * args.pastes
            contents = [source(seed) for seed in range(first, first + args.pastes)]
            for start in (start_pinnwand, start_meatlizard):
                tmp = Path(scratch) / f"{start.__name__}-{round_no}"
                tmp.mkdir()
                proc, server = await start(tmp)
                try:
                    result = await measure(server, contents, args, tmp)
                finally:
                    proc.terminate()
                    proc.wait()
                for kind, rate in result.items():
                    if rate.rps > best[server.name].get(kind, Rate(0.0, 0.0)).rps:
                        best[server.name][kind] = rate
    size = len(source(0))
    print(
        f"{args.pastes} distinct pastes of ~{size} bytes (python); creates: httpx, concurrency"
        f" {args.concurrency}; reads: wrk -t1 -c{args.connections} -d{args.duration}s cycling"
        f" over them; best of {args.rounds} rounds"
    )
    print(f"load average before: {before}   after: {load_average()}")
    print(f"{'':11}{'meatlizard':>22}{'pinnwand':>22}{'ratio':>8}")
    for kind in KINDS:
        ours, theirs = best["meatlizard"][kind], best["pinnwand"][kind]
        cells = [f"{r.rps:8.1f}/s {r.cpu_us:6.0f} us" for r in (ours, theirs)]
        print(f"{kind:11}{cells[0]:>22}{cells[1]:>22}{ours.rps / theirs.rps:7.2f}x")
    print("(requests/s, server CPU per request)")


if __name__ == "__main__":
    asyncio.run(main())
