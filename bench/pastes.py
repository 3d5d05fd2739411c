"""Pastebin throughput: `meatlizard serve` next to pinnwand, both real subprocesses.

Anchor: pinnwand 1.5.0 (PyPI, pinned in bench/requirements-pinnwand.txt, its own venv)
on SQLite, rate limits lifted. Measured: `meatlizard serve` on its embedded default
(SQLite, in-process cache, local storage, one highlighting helper process; model loaded
before timing), paste rate limit lifted; other settings (PASTE_HIGHLIGHT_PROCESSES=0 ...)
pass through from the environment. Both get the same pastes: about 3 KB of Python each,
every one different (no content-keyed cache can help), stored with an explicit language.

Creates: wrk (Debian package) with a Lua script POSTing, for `--duration` seconds, one JSON
body per request in each server's own API, every one a different paste: a template of the
source with the request's number substituted (the Lua script only substitutes; no client
in this process shares the 2 cores' CPU with the server while it is timed). Only 2xx
answers count; any other answer, or a socket error, fails the bench. Reads: `--pastes`
pastes created first with httpx (untimed), then wrk with a Lua script cycling over every
one's raw text, then its page, for `--duration` seconds each; no cookies, so every page
view is a first visit. Rounds alternate the two servers on fresh databases; the best round
of each is reported, with the server's CPU time per request (user + system of the process
and its children), which load from elsewhere on the 2 cores disturbs much less than
requests/s.

    .venv/bin/python bench/pastes.py [--pastes 400] [--duration 10] [--connections 16]
        [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
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
# POSTs the body in the file named after `--`, SEED replaced by a number no other request
# of the run uses; counts 2xx and other answers, printed by done() for the bench to read.
WRK_CREATE_SCRIPT = """
local threads, path, template, seed = {}, nil, nil, 0
ok, bad = 0, 0
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end
function init(args)
  path, seed = args[1], tonumber(args[3]) + id * 100000000
  local file = assert(io.open(args[2], "rb"))
  template = file:read("*a")
  file:close()
end
function request()
  seed = seed + 1
  local body = template:gsub("SEED", tostring(seed))
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, thread in ipairs(threads) do
    good, wrong = good + thread:get("ok"), wrong + thread:get("bad")
  end
  io.write(string.format("created %d refused %d in %d us\\n", good, wrong, summary.duration))
end
"""
SEED = "SEED"
WRK_SEEDS = 1_000_000_000  # wrk's pastes in round r are numbered from r * this; httpx's below
READ_SET_CONCURRENCY = 16


def source(seed: int | str) -> str:
    """Return about 3 KB of Python that no other paste of the run shares."""
    return "".join(
        f"def step_{seed}_{n}(value: int) -> int:\n"
        f"    '''Step {n} of pipeline {seed}.'''\n"
        f"    return value * {n * 7919} + {n % 97}  # {seed}\n\n"
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
    create_path: str
    body: Callable[[str], dict[str, object]]  # the JSON that creates a paste of this text
    key: Callable[[httpx.Response], str]  # the created paste's key
    raw_path: Callable[[str], str]
    view_path: Callable[[str], str]

    async def create(self, http: httpx.AsyncClient, content: str) -> str:
        """Create one paste; return its key."""
        response = await http.post(self.create_path, json=self.body(content))
        response.raise_for_status()
        return self.key(response)


def _meatlizard_body(content: str) -> dict[str, object]:
    return {"content": content, "language": "python", "expires_in": "1d"}


def _pinnwand_body(content: str) -> dict[str, object]:
    return {"expiry": "1day", "files": [{"lexer": "python", "content": content}]}


def _pinnwand_key(response: httpx.Response) -> str:
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


def _ready(response: httpx.Response) -> bool:
    # Anonymous callers get only {"status": ...}; the model loads at the first chat, not here.
    return response.status_code == 200


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
    await wait_up(base, "/readyz", _ready)
    raw, view = (lambda k: f"/p/{k}/raw"), (lambda k: f"/p/{k}")
    key = lambda r: str(r.json()["id"])  # noqa: E731
    api = "/api/v1/pastes"
    return proc, Server("meatlizard", base, proc.pid, api, _meatlizard_body, key, raw, view)


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
    api = "/api/v1/paste"
    return proc, Server("pinnwand", base, proc.pid, api, _pinnwand_body, _pinnwand_key, raw, view)


@dataclass
class Rate:
    """Requests per second and the server's CPU time per request."""

    rps: float
    cpu_us: float


async def create_all(server: Server, contents: list[str]) -> list[str]:
    """Create every paste (untimed, for the reads), 16 at a time; return their keys in order."""
    keys = [""] * len(contents)
    queue = iter(range(len(contents)))
    limits = httpx.Limits(max_connections=READ_SET_CONCURRENCY)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=60) as http:

        async def worker() -> None:
            for n in queue:
                keys[n] = await server.create(http, contents[n])

        await asyncio.gather(*(worker() for _ in range(READ_SET_CONCURRENCY)))
    return keys


def wrk(server: Server, args: argparse.Namespace, script: Path, *extra: str) -> tuple[str, float]:
    """Run wrk with this Lua script for `args.duration` seconds; return its output and the
    server's CPU seconds meanwhile. Socket errors and non-2xx/3xx answers fail the bench."""
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "-s", str(script)]
    cpu = cpu_seconds(server.pid)
    out = subprocess.run(
        [*command, server.base, "--", *extra], check=True, capture_output=True, text=True
    ).stdout
    used = cpu_seconds(server.pid) - cpu
    if "Non-2xx or 3xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors on {server.name}:\n{out}")
    return out, used


def read_with_wrk(server: Server, paths: list[str], args: argparse.Namespace, tmp: Path) -> Rate:
    """Read every path in turn with wrk for `args.duration` seconds."""
    script, listing = tmp / "cycle.lua", tmp / "paths.txt"
    script.write_text(WRK_SCRIPT)
    listing.write_text("\n".join(paths) + "\n")
    out, used = wrk(server, args, script, str(listing))
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Rate(rps, used / requests * 1e6)


def create_with_wrk(server: Server, first_seed: int, args: argparse.Namespace, tmp: Path) -> Rate:
    """POST distinct pastes with wrk for `args.duration` seconds, counting only 2xx answers."""
    script, template = tmp / "create.lua", tmp / "body.json"
    script.write_text(WRK_CREATE_SCRIPT)
    template.write_text(json.dumps(server.body(source(SEED))))
    out, used = wrk(server, args, script, server.create_path, str(template), str(first_seed))
    counts = re.search(r"created (\d+) refused (\d+) in (\d+) us", out)
    if counts is None or int(counts[2]) or not int(counts[1]):
        raise SystemExit(f"creates failed on {server.name}:\n{out}")
    created, seconds = int(counts[1]), int(counts[3]) / 1e6
    return Rate(created / seconds, used / created * 1e6)


async def measure(
    server: Server, contents: list[str], first_seed: int, args: argparse.Namespace, tmp: Path
) -> dict[str, Rate]:
    """Return create, raw-read and page-view throughput."""
    keys = await create_all(server, contents)
    async with httpx.AsyncClient(base_url=server.base) as http:  # the text came back intact
        for n in (0, len(keys) - 1):
            assert (await http.get(server.raw_path(keys[n]))).text == contents[n]
    made = await asyncio.to_thread(create_with_wrk, server, first_seed, args, tmp)
    paths = [server.raw_path(k) for k in keys]
    raw = await asyncio.to_thread(read_with_wrk, server, paths, args, tmp)
    paths = [server.view_path(k) for k in keys]
    view = await asyncio.to_thread(read_with_wrk, server, paths, args, tmp)
    return dict(zip(KINDS, (made, raw, view), strict=True))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pastes", type=int, default=400)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per kind")
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
                    seed = WRK_SEEDS * (round_no + 1)  # the same pastes for both servers
                    result = await measure(server, contents, seed, args, tmp)
                finally:
                    proc.terminate()
                    proc.wait()
                for kind, rate in result.items():
                    if rate.rps > best[server.name].get(kind, Rate(0.0, 0.0)).rps:
                        best[server.name][kind] = rate
    size = len(source(0))
    print(
        f"distinct pastes of ~{size} bytes (python); creates: wrk -t1 -c{args.connections}"
        f" -d{args.duration}s, each a new paste; reads: wrk the same, cycling over"
        f" {args.pastes} pastes; best of {args.rounds} rounds"
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
