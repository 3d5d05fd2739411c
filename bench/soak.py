"""Soak: a mixed load on `meatlizard serve` (embedded default) for a fixed time, then integrity.

The server runs as a subprocess with no settings but a temporary DATA_DIR and lifted rate
limits: SQLite, the in-process cache, the local storage folder and the in-process model.
`--workers` clients loop over a weighted mix (paste raw reads, page views and creates,
redirects, link creates, file uploads by PUT, downloads and deletes) while one more asks the
model a short question every `--chat-every` seconds. Every `--sample` seconds the server's
resident memory (VmRSS, its own and with its highlighting helper) and open file descriptors
are recorded. After the load, `--idle` seconds of no requests show what memory returns.
Then every acknowledged paste, link and file is checked (text, redirect target, SHA-256;
deleted files must be gone) and SQLite's `PRAGMA integrity_check` is run.

    .venv/bin/python bench/soak.py [--duration 180 | --long] [--workers 8] [--idle 60]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from links import free_port, load_average, wait_for

LONG_SECONDS = 12 * 60
LIFTED = "1000000/minute"
MIX = {  # relative weights of the request kinds
    "paste_raw": 24,
    "paste_page": 10,
    "paste_create": 10,
    "redirect": 26,
    "link_create": 6,
    "file_upload": 6,
    "file_download": 12,
    "file_delete": 3,
}
# Read once at start: the tree may change while the soak runs (a file deleted mid-run).
SOURCES = [
    path.read_text()
    for path in sorted(Path(__file__).parents[1].joinpath("meatlizard").rglob("*.py"))
]


@dataclass
class Ledger:
    """What the server acknowledged, and what the clients saw."""

    pastes: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # id -> sha256
    deleted: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    chats: int = 0


def status_kb(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def rss_mib(pid: int) -> tuple[float, float]:
    """Return the server's resident MiB, alone and with its children."""
    own = status_kb(pid, "VmRSS") / 1024
    kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own, own + sum(status_kb(int(kid), "VmRSS") / 1024 for kid in kids)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def paste_text(rng: random.Random) -> str:
    body = rng.choice(SOURCES)[: rng.randint(1024, 20 * 1024)]
    return f"# soak {rng.getrandbits(64):x}\n{body}"


async def one(http: httpx.AsyncClient, rng: random.Random, ledger: Ledger, token: str) -> None:
    kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    auth = {"Authorization": f"Bearer {token}"}
    ok, problem = True, ""  # problem: what a wrong answer held, for the error list
    if kind == "paste_create" or (kind in ("paste_raw", "paste_page") and not ledger.pastes):
        kind, text = "paste_create", paste_text(rng)
        made = await http.post("/api/v1/pastes", json={"content": text, "expires_in": "1d"})
        ok = made.status_code == 201
        if ok:
            ledger.pastes[made.json()["id"]] = text
    elif kind in ("paste_raw", "paste_page"):
        paste_id = rng.choice(list(ledger.pastes))
        path = f"/p/{paste_id}/raw" if kind == "paste_raw" else f"/p/{paste_id}"
        ok = (await http.get(path)).status_code == 200
    elif kind == "link_create" or (kind == "redirect" and not ledger.links):
        kind, url = "link_create", f"https://example.com/soak/{rng.getrandbits(64):x}"
        made = await http.post("/api/v1/links", json={"url": url})
        ok = made.status_code == 201
        if ok:
            ledger.links[made.json()["slug"]] = url
    elif kind == "redirect":
        slug = rng.choice(list(ledger.links))
        answer = await http.get(f"/s/{slug}")
        ok = answer.status_code == 302 and answer.headers["location"] == ledger.links[slug]
    elif kind == "file_upload" or not ledger.files:
        kind, data = "file_upload", rng.randbytes(rng.randint(16, 512) * 1024)
        made = await http.put(
            f"/api/v1/files/soak-{len(ledger.files)}.bin", content=data, headers=auth
        )
        ok = made.status_code == 201
        if ok:
            ledger.files[made.json()["id"]] = hashlib.sha256(data).hexdigest()
    elif kind == "file_download":
        file_id = rng.choice(list(ledger.files))
        digest = ledger.files[file_id]
        got = await http.get(f"/f/{file_id}/raw", headers=auth)
        # Deleted by another client meanwhile: 404 if the row went first, 410 (the route's
        # "this file was deleted") if the object went between reading the row and opening it.
        deleted_meanwhile = file_id not in ledger.files and got.status_code in (404, 410)
        intact = got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == digest
        ok = intact or deleted_meanwhile
        if not ok:  # say what came back, not only that it was wrong
            problem = f" {got.status_code} {len(got.content)} bytes"
    else:
        file_id = rng.choice(list(ledger.files))
        del ledger.files[file_id]
        ok = (await http.delete(f"/api/v1/files/{file_id}", headers=auth)).status_code == 204
        if ok:
            ledger.deleted.append(file_id)
    ledger.counts[kind] = ledger.counts.get(kind, 0) + 1
    if not ok:
        ledger.errors.append(kind + problem)


async def client(base: str, seed: int, until: float, ledger: Ledger, token: str) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            try:
                await one(http, rng, ledger, token)
            except httpx.HTTPError as exc:
                ledger.errors.append(f"{type(exc).__name__}")


async def chatter(base: str, every: float, until: float, ledger: Ledger, token: str) -> None:
    if every <= 0:  # --chat-every 0: the web path alone, no model loaded
        return
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "Say hi."}],
        "max_tokens": 16,
    }
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        while time.monotonic() < until:
            started = time.monotonic()
            answer = await http.post(
                "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            ledger.chats += 1
            if answer.status_code != 200:
                ledger.errors.append(f"chat {answer.status_code}")
            wait = min(every - (time.monotonic() - started), until - time.monotonic())
            await asyncio.sleep(max(0.0, wait))


async def sampler(pid: int, every: float, until: float, samples: list[tuple[float, ...]]) -> None:
    start = time.monotonic()
    while time.monotonic() < until:
        samples.append((time.monotonic() - start, *rss_mib(pid), open_fds(pid), os.getloadavg()[0]))
        await asyncio.sleep(every)


async def verify(base: str, ledger: Ledger, token: str) -> list[str]:
    auth = {"Authorization": f"Bearer {token}"}
    wrong = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for paste_id, text in ledger.pastes.items():
            if (await http.get(f"/p/{paste_id}/raw")).text != text:
                wrong.append(f"paste {paste_id}")
        for slug, url in ledger.links.items():
            if (await http.get(f"/s/{slug}")).headers.get("location") != url:
                wrong.append(f"link {slug}")
        for file_id, digest in ledger.files.items():
            got = await http.get(f"/f/{file_id}/raw", headers=auth)
            if hashlib.sha256(got.content).hexdigest() != digest:
                wrong.append(f"file {file_id}")
        for file_id in ledger.deleted:
            if (await http.get(f"/f/{file_id}/raw", headers=auth)).status_code != 404:
                wrong.append(f"deleted file {file_id}")
    return wrong


def summary(samples: list[tuple[float, ...]], until: float) -> str:
    load = [s for s in samples if s[0] <= until]
    idle = [s for s in samples if s[0] > until]
    lines = [f"{'t (s)':>7} {'RSS MiB':>8} {'+helper':>8} {'fds':>5} {'load1':>6}"]
    for at, own, total, fds, load1 in samples[:: max(1, len(samples) // 20)]:
        lines.append(f"{at:7.0f} {own:8.1f} {total:8.1f} {fds:5.0f} {load1:6.2f}")
    peak = max(s[1] for s in load)
    lines.append(f"RSS start {load[0][1]:.1f} MiB, peak under load {peak:.1f} MiB")
    if idle:
        lines.append(f"RSS at the end of the idle period {idle[-1][1]:.1f} MiB")
    lines.append(f"open fds: start {load[0][3]:.0f}, max {max(s[3] for s in samples):.0f}")
    return "\n".join(lines)


async def run(args: argparse.Namespace, base: str, pid: int) -> Ledger:
    ledger = Ledger()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await http.post(
            "/api/v1/auth/register", json={"username": "soak", "password": "soak-pass-123"}
        )
        login = await http.post(
            "/api/v1/auth/login", json={"username": "soak", "password": "soak-pass-123"}
        )
        token = login.json()["access_token"]
    samples: list[tuple[float, ...]] = []
    duration = LONG_SECONDS if args.long else args.duration
    started = time.monotonic()
    until = started + duration
    sampling = asyncio.create_task(sampler(pid, args.sample, until + args.idle, samples))
    await asyncio.gather(
        chatter(base, args.chat_every, until, ledger, token),
        *(client(base, seed, until, ledger, token) for seed in range(args.workers)),
    )
    elapsed = time.monotonic() - started
    await sampling
    total = sum(ledger.counts.values())
    print(f"{duration} s of load, {total} requests, {total / elapsed:.1f}/s, {ledger.chats} chats")
    print(" ".join(f"{k}={v}" for k, v in sorted(ledger.counts.items())))
    print(f"errors: {len(ledger.errors)} {sorted(set(ledger.errors))[:10]}")
    print(summary(samples, duration))
    wrong = await verify(base, ledger, token)
    kept = f"{len(ledger.pastes)} pastes, {len(ledger.links)} links, {len(ledger.files)} files"
    print(
        f"integrity: {kept}, {len(ledger.deleted)} deleted files; wrong: {len(wrong)} {wrong[:5]}"
    )
    return ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=180, help="seconds of load")
    parser.add_argument("--long", action="store_true", help="12 minutes of load")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--chat-every", type=float, default=15.0, help="seconds between chats; 0: none"
    )
    parser.add_argument("--sample", type=float, default=5.0)
    parser.add_argument("--idle", type=int, default=60, help="seconds sampled after the load")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="soak-"))
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data), "LOG_LEVEL": "WARNING"}
    for name in ("PASTE", "LINK", "CHAT", "LOGIN"):
        env[f"{name}_RATE_LIMIT"] = LIFTED
    print(f"load average before: {load_average()}")
    server = subprocess.Popen(
        [sys.executable, "-m", "meatlizard", "serve", "--port", str(port)], env=env
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", server, timeout_s=180)
        asyncio.run(run(args, base, server.pid))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    database = sqlite3.connect(data / "meatlizard.db")
    print(f"PRAGMA integrity_check: {database.execute('PRAGMA integrity_check').fetchone()[0]}")
    database.close()
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
