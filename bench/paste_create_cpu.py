"""CPU per paste create inside the server process, without a client or a network in between.

The app runs on its embedded default (SQLite, in-process cache, one highlighting helper
process, or `PASTE_HIGHLIGHT_PROCESSES` from the environment; no model) and every request
is handed to it as a bare ASGI call: a JSON body of ~3 KB of distinct Python, as
bench/pastes.py sends. Reported: CPU seconds (user + system, all threads) of this process
per create, which is everything the server spends outside Pygments, and the helper's CPU
per create. `--profile FILE` writes a cProfile of the timed creates instead.

For instruction counts that a busy machine does not disturb, run it under callgrind twice
with different `--creates` and divide the difference:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python \
        bench/paste_create_cpu.py --creates 50 --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: bench.pastes is a sibling module

from bench.pastes import cpu_seconds, source  # noqa: E402
from meatlizard.app import create_app  # noqa: E402
from meatlizard.core.settings import Settings  # noqa: E402

PATH = "/api/v1/pastes"


def scope(body: bytes) -> dict[str, Any]:
    """Return the ASGI scope uvicorn would build for one JSON create."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"wrk"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def create(app: Any, body: bytes) -> None:
    """Hand one create to the app; fail unless it answers 201."""
    answer: dict[str, Any] = {}
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Future()  # the client never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]

    await app(scope(body), receive, send)
    if answer.get("status") != 201:
        raise SystemExit(f"create answered {answer.get('status')}")


def helper_seconds() -> float:
    """Return the CPU time of this process's children (the highlighting helpers)."""
    tasks = Path(f"/proc/{os.getpid()}/task").iterdir()
    children = [int(pid) for task in tasks for pid in (task / "children").read_text().split()]
    return sum(cpu_seconds(pid) for pid in children)


def bodies(first: int, count: int) -> list[bytes]:
    return [
        json.dumps({"content": source(seed), "language": "python", "expires_in": "1d"}).encode()
        for seed in range(first, first + count)
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=300, help="per round")
    parser.add_argument("--rounds", type=int, default=5, help="the best round is reported")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", type=Path, help="write a cProfile of one round here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), inference="fallback", paste_rate_limit="100000000/minute"
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            for body in bodies(-args.warmup, args.warmup):
                await create(app, body)
            best = (float("inf"), float("inf"))
            for round_no in range(args.rounds):
                batch = bodies(round_no * args.creates, args.creates)
                profile = cProfile.Profile(time.thread_time) if args.profile else None
                helpers = helper_seconds()
                own = time.process_time()
                if profile:
                    profile.enable()
                for body in batch:
                    await create(app, body)
                if profile:
                    profile.disable()
                    profile.dump_stats(args.profile)
                own = time.process_time() - own
                helpers = helper_seconds() - helpers
                per = (own / args.creates * 1e3, helpers / args.creates * 1e3)
                print(f"round {round_no}: server {per[0]:.3f} ms, helper {per[1]:.3f} ms / create")
                best = min(best, per)
    print(f"best: server process {best[0]:.3f} ms CPU / create, helper {best[1]:.3f} ms")


if __name__ == "__main__":
    asyncio.run(main())
