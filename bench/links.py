"""Redirect throughput: `meatlizard serve` answering /s/{slug} vs nginx answering `return 302`.

Anchor: nginx (Debian package) with a temporary config on a free loopback port, one worker
process, access log off, answering every request with `return 302`. Second anchor, the
ceiling for a Python server: uvicorn (same httptools + uvloop, one process, access log off)
running bench/asgi_302.py, a bare ASGI app that answers 302 with no framework. Measured: `meatlizard
serve` as a real subprocess (embedded default: SQLite, in-process cache; INFERENCE=fallback
so no model loads; LOG_LEVEL=WARNING so the per-request access log is off, as nginx's is),
redirecting a short link created through the API. Both are driven by wrk (Debian package)
on loopback with the same threads, connections and duration, in the same run. After the run
the server is stopped and the clicks written at shutdown are compared with wrk's count.
The three are measured in turn for --rounds rounds (the medians are reported), so a burst of
load from elsewhere on the machine hits all of them; the load average is printed too.

    .venv/bin/python bench/links.py [--duration 10] [--rounds 3] [--connections 50] [--threads 1]

Needs `wrk` and `nginx` on PATH: `apt-get install wrk nginx` (or `make bench-links` as root).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

TARGET = "https://example.com/benchmark/target"
NGINX_CONF = """daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{ listen 127.0.0.1:{port}; location / {{ return 302 {target}; }} }}
}}
"""


BARE_OPTIONS = [
    *("--app-dir", str(Path(__file__).parent), "--no-access-log", "--lifespan", "off"),
    *("--log-level", "warning"),
]


@dataclass
class Result:
    """What wrk measured."""

    requests: int
    rps: float
    p99_ms: float
    cpu_us: float = 0.0  # server CPU time per request, which other load disturbs less


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited early with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    sys.exit(f"{url} did not answer within {timeout_s} s")


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, args: argparse.Namespace, server: int, script: str | None = None) -> Result:
    cpu = cpu_seconds(server)
    out = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--latency",
            *(["-s", script] if script else []),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx or 3xx" in out:
        sys.exit(f"wrk saw errors for {url}:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    return Result(requests, rps, p99, (cpu_seconds(server) - cpu) / requests * 1e6)


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) of a process and its children processes so far."""
    total = 0.0
    for process in [pid, *children(pid)]:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def median(results: list[Result]) -> Result:
    ordered = sorted(results, key=lambda result: result.rps)
    return ordered[len(ordered) // 2]


def wrk_parser(doc: str | None) -> argparse.ArgumentParser:
    """Return a parser with the wrk options every redirect bench takes."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    return parser


def main() -> None:
    parser = wrk_parser(__doc__)
    args = parser.parse_args()
    missing = [tool for tool in ("wrk", "nginx") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install wrk nginx (or make bench-links)")
    load_before = load_average()
    runs: dict[str, list[Result]] = {"nginx": [], "bare": [], "meatlizard": []}
    with tempfile.TemporaryDirectory(prefix="ml-bench-links-") as tmp:
        nginx_port, bare_port, app_port = free_port(), free_port(), free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=nginx_port, target=TARGET))
        env = {**os.environ, "DATA_DIR": tmp, "INFERENCE": "fallback", "LOG_LEVEL": "WARNING"}
        bin_dir = Path(sys.executable).parent
        server = subprocess.Popen(
            [str(bin_dir / "meatlizard"), "serve", "--port", str(app_port)], env=env, cwd=tmp
        )
        bare = subprocess.Popen(
            [str(bin_dir / "uvicorn"), "asgi_302:app", "--port", str(bare_port), *BARE_OPTIONS]
        )
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", tmp])
        try:
            base = f"http://127.0.0.1:{app_port}"
            wait_for(base + "/healthz", server)
            wait_for(f"http://127.0.0.1:{bare_port}/", bare)
            wait_for(f"http://127.0.0.1:{nginx_port}/", nginx)
            created = httpx.post(base + "/api/v1/links", json={"url": TARGET}, timeout=10)
            created.raise_for_status()
            slug = created.json()["slug"]
            assert httpx.get(f"{base}/s/{slug}").headers["location"] == TARGET
            for _ in range(args.rounds):
                nginx_url = f"http://127.0.0.1:{nginx_port}/s/{slug}"
                runs["nginx"].append(run_wrk(nginx_url, args, nginx.pid))
                bare_url = f"http://127.0.0.1:{bare_port}/s/{slug}"
                runs["bare"].append(run_wrk(bare_url, args, bare.pid))
                runs["meatlizard"].append(run_wrk(f"{base}/s/{slug}", args, server.pid))
        finally:
            nginx.send_signal(signal.SIGQUIT)
            bare.send_signal(signal.SIGINT)
            server.send_signal(signal.SIGINT)
            nginx.wait(30)
            bare.wait(30)
            server.wait(60)
        with sqlite3.connect(Path(tmp) / "meatlizard.db") as db:
            stored = db.execute(
                "SELECT clicks + bot_clicks FROM links WHERE slug = ?", (slug,)
            ).fetchone()[0]
    anchor, ceiling, served = (median(runs[name]) for name in ("nginx", "bare", "meatlizard"))
    completed = sum(result.requests for result in runs["meatlizard"])
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, loopback, 1 process each,"
        f" median of {args.rounds} alternating rounds"
    )
    print(f"load average before: {load_before}   after: {load_average()}")
    for name, result in [
        ("nginx return 302", anchor),
        ("uvicorn bare ASGI 302", ceiling),
        ("meatlizard /s/{slug}", served),
    ]:
        print(
            f"{name:24s} {result.rps:8.0f} req/s   p99 {result.p99_ms:7.2f} ms"
            f"   server CPU {result.cpu_us:5.1f} us/request"
        )
    print(f"ratio meatlizard/nginx: {served.rps / anchor.rps:.3f} (target >= 0.30)")
    print(f"ratio bare uvicorn/nginx: {ceiling.rps / anchor.rps:.3f} (the ceiling for this stack)")
    print(f"ratio meatlizard/bare uvicorn: {served.rps / ceiling.rps:.3f}")
    print(f"clicks written at shutdown: {stored} (wrk completed {completed}, +1 check)")


if __name__ == "__main__":
    main()
