"""File throughput: a 1 GiB tus upload and `/f/{id}/raw` download through `meatlizard serve`.

Anchors measured in the same run: a plain disk copy of the same file (shutil.copyfile, the
ceiling for writing an upload to the storage folder) and nginx (Debian package, one worker,
sendfile on, access log off) serving the same file statically and, for the upload side,
storing it from a `curl -T` PUT (its dav module; the limit of an HTTP upload by curl over
loopback on this machine). Measured: `meatlizard serve`
as a real subprocess on its embedded default (SQLite, local storage folder under a temporary
DATA_DIR), once with INFERENCE=fallback (no model: the web stack alone) and once with the
default in-process model (INFERENCE=local), and optionally
(`--modes ...,remote --redis-url URL`) in the production shape of the web process: Redis for
the cache and bus, inference in a client-bot elsewhere (none runs, so chat would fall back).
The timed upload is one tus PATCH of the whole file sent by curl (tus-js-client does that
unless given a chunkSize; our upload page sends 32 MiB PATCHes); a second upload with a
Python client (httpx, PATCHes of --chunk-mib) is shown for reference. Downloads are fetched
by curl into /dev/null from both servers. The server's peak resident memory is VmHWM from
/proc/<pid>/status. The in-process model loads for its first answer and is freed after
MODEL_KEEP_ALIVE idle seconds (2 here, 300 by default), so in the local mode the transfers
run with no model in memory, as on a server nobody is chatting with; after them the bench
asks one question (POST /v1/chat/completions) to show the model's share, then waits for the
keep-alive to free it.

    .venv/bin/python bench/files.py [--size-mib 1024] [--chunk-mib 256]
        [--modes fallback,local[,remote --redis-url redis://127.0.0.1:6379/4]]

The disk copy is timed before and after the servers and again just before each server's
timed upload, which is compared with that adjacent copy: on this shared virtual machine a
write into fresh page-cache memory costs several times more system time than one into
recycled pages, so a copy made minutes earlier is a poor anchor.

Needs `nginx` and `curl` on PATH (`make bench-files` installs them as root).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from links import cpu_seconds, free_port, load_average, wait_for

MIB = 1024**2
BLOCK_BYTES = MIB
READ_BYTES = MIB
NGINX_CONF = """daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off; sendfile on;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port}; root {root};
    location /put/ {{ root {tmp}; dav_methods PUT; client_max_body_size 0; }}
  }}
}}
"""
TUS = {"Tus-Resumable": "1.0.0"}
KEEP_ALIVE_SECONDS = 2


def generate(path: Path, size: int) -> str:
    """Write `size` pseudo-random bytes; return their SHA-1."""
    block = random.Random(7).randbytes(BLOCK_BYTES)
    digest = hashlib.sha1()
    with path.open("wb") as out:
        for position in range(0, size, BLOCK_BYTES):
            chunk = block[: min(BLOCK_BYTES, size - position)]
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def disk_copy(source: Path, target: Path) -> float:
    """Copy a file and sync it (uploads are fsynced before they count); return MB/s."""
    started = time.perf_counter()
    shutil.copyfile(source, target)
    os.sync()
    seconds = time.perf_counter() - started
    target.unlink()
    return mb_per_s(source.stat().st_size, seconds)


def nginx_put(url: str, source: Path, folder: Path) -> float:
    """PUT the file to nginx (dav module) with curl, then sync; return MB/s."""
    started = time.perf_counter()
    command = ["curl", "-sS", "-T", str(source), "-o", "/dev/null", "-w", "%{http_code}", url]
    code = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.sync()
    seconds = time.perf_counter() - started
    if code not in ("201", "204"):
        sys.exit(f"nginx PUT answered {code}")
    stored = folder / source.name
    if stored.stat().st_size != source.stat().st_size:
        sys.exit("nginx stored a file of the wrong size")
    stored.unlink()
    return mb_per_s(source.stat().st_size, seconds)


def rss(pid: int) -> dict[str, int]:
    """Return VmRSS and VmHWM of a process in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def mb_per_s(size: int, seconds: float) -> float:
    return size / MIB / seconds


def curl_download(url: str, headers: dict[str, str] | None = None) -> tuple[float, int]:
    """Fetch a URL into /dev/null with curl; return (seconds, bytes)."""
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download} %{http_code}", url]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    started = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - started
    size, code = out.split()
    if code != "200":
        sys.exit(f"{url} answered {code}")
    return seconds, int(size)


def file_chunks(path: Path, start: int, end: int) -> Iterator[bytes]:
    with path.open("rb") as source:
        source.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = source.read(min(READ_BYTES, remaining))
            remaining -= len(chunk)
            yield chunk


def token_for(http: httpx.Client) -> str:
    account = {"username": f"bench{random.randrange(10**9)}", "password": "bench-password-1"}
    http.post("/api/v1/auth/register", json=account).raise_for_status()
    answer = http.post("/api/v1/auth/login", json=account)
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def curl_upload(http: httpx.Client, token: str, source: Path) -> tuple[float, str]:
    """Upload a file with tus in one PATCH sent by curl; return (seconds, file id)."""
    size = source.stat().st_size
    auth = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    created = http.post("/api/v1/files/tus", headers={**TUS, **auth, "Upload-Length": str(size)})
    created.raise_for_status()
    location = created.headers["Location"]
    headers = {**TUS, **auth, "Upload-Offset": "0", "Expect": ""}
    headers["Content-Type"] = "application/offset+octet-stream"
    command = ["curl", "-sS", "-X", "PATCH", "-T", str(source), "-w", "%{http_code}", location]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    code = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if code != "204":
        sys.exit(f"curl PATCH answered {code}")
    return time.perf_counter() - started, location.rsplit("/", 1)[-1]


def tus_upload(http: httpx.Client, token: str, source: Path, chunk: int) -> tuple[float, str]:
    """Upload a file with tus; return (seconds, file id)."""
    size = source.stat().st_size
    auth = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    created = http.post("/api/v1/files/tus", headers={**TUS, **auth, "Upload-Length": str(size)})
    created.raise_for_status()
    location = created.headers["Location"]
    for offset in range(0, size, chunk):
        end = min(size, offset + chunk)
        headers = {**TUS, **auth, "Upload-Offset": str(offset), "Content-Length": str(end - offset)}
        headers["Content-Type"] = "application/offset+octet-stream"
        answer = http.patch(location, content=file_chunks(source, offset, end), headers=headers)
        if answer.status_code != 204:
            sys.exit(f"PATCH at {offset} answered {answer.status_code}: {answer.text}")
    return time.perf_counter() - started, location.rsplit("/", 1)[-1]


def measure_server(
    mode: str, source: Path, tmp: Path, args: argparse.Namespace
) -> dict[str, float]:
    """Upload and download through `meatlizard serve` with this INFERENCE mode."""
    size = source.stat().st_size
    data = tmp / f"data-{mode}"
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data), "LOG_LEVEL": "WARNING", "INFERENCE": mode}
    env["FILES_MAX_UPLOAD_BYTES"] = str(2 * size)
    env["MODEL_KEEP_ALIVE"] = str(KEEP_ALIVE_SECONDS)
    if mode == "remote":
        env |= {"REDIS_URL": args.redis_url, "PAYLOAD_ENCRYPTION_KEY": secrets.token_hex(32)}
    meatlizard = Path(sys.executable).with_name("meatlizard")
    server = subprocess.Popen([str(meatlizard), "serve", "--port", str(port)], env=env, cwd=tmp)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", server, timeout_s=180)
        idle = rss(server.pid)["VmRSS"]
        with httpx.Client(base_url=base, timeout=600) as http:
            token = token_for(http)
            after_login = rss(server.pid)["VmHWM"]
            chunked_seconds, _ = tus_upload(http, token, source, args.chunk_mib * MIB)
            copy = disk_copy(source, tmp / "copy.bin")  # the anchor, in the same conditions
            cpu = cpu_seconds(server.pid)
            up_seconds, file_id = curl_upload(http, token, source)
            up_cpu = cpu_seconds(server.pid) - cpu
        after_upload = rss(server.pid)["VmHWM"]
        cpu = cpu_seconds(server.pid)
        down_seconds, got = curl_download(f"{base}/f/{file_id}/raw")
        down_cpu = cpu_seconds(server.pid) - cpu
        if got != size:
            sys.exit(f"downloaded {got} of {size} bytes")
        peak = rss(server.pid)["VmHWM"]
        model = model_share(base, token, server.pid) if mode == "local" else {}
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
        shutil.rmtree(data, ignore_errors=True)
    return {
        "upload": mb_per_s(size, up_seconds),
        "copy": copy,
        "chunked": mb_per_s(size, chunked_seconds),
        "upload_cpu": up_cpu / (size / 1024**3),
        "download_cpu": down_cpu / (size / 1024**3),
        "login_hwm": after_login / MIB,
        "download": mb_per_s(size, down_seconds),
        "idle_rss": idle / MIB,
        "upload_hwm": after_upload / MIB,
        "peak": peak / MIB,
        **model,
    }


def model_share(base: str, token: str, pid: int) -> dict[str, float]:
    """Ask the in-process model one question; return RSS with it loaded and after keep-alive."""
    question = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "Hi."}],
        "max_tokens": 8,
    }
    auth = {"Authorization": f"Bearer {token}"}
    answer = httpx.post(f"{base}/v1/chat/completions", json=question, headers=auth, timeout=120)
    answer.raise_for_status()
    loaded = rss(pid)["VmRSS"]
    deadline = time.monotonic() + KEEP_ALIVE_SECONDS + 30
    while time.monotonic() < deadline:  # until the server says the model is out of memory
        time.sleep(0.5)
        if 'meatlizard_model_loaded{model="smollm2"} 0.0' in httpx.get(f"{base}/metrics").text:
            break
    else:
        sys.exit("the model was not freed after MODEL_KEEP_ALIVE")
    time.sleep(1)
    freed = rss(pid)["VmRSS"]
    return {"model_rss": loaded / MIB, "freed_rss": freed / MIB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunk-mib", type=int, default=256)
    parser.add_argument("--modes", default="fallback,local")
    parser.add_argument("--redis-url", default="", help="Redis for the 'remote' mode")
    args = parser.parse_args()
    if "remote" in args.modes.split(",") and not args.redis_url:
        sys.exit("the remote mode needs --redis-url (a database number nobody else uses)")
    missing = [tool for tool in ("nginx", "curl") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install nginx curl (or make bench-files)")
    size = args.size_mib * MIB
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="ml-bench-files-", dir=os.environ.get("TMPDIR")) as t:
        tmp = Path(t)
        tmp.chmod(0o755)  # nginx's worker may run as another user (www-data) when we are root
        root = tmp / "static"
        root.mkdir()
        source = root / "big.bin"
        generate(source, size)
        copy = disk_copy(source, tmp / "copy.bin")
        port = free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, root=root))
        (tmp / "put").mkdir()
        (tmp / "put").chmod(0o777)  # written by nginx's worker
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp)])
        try:
            wait_for(f"http://127.0.0.1:{port}/big.bin", nginx)
            seconds, got = curl_download(f"http://127.0.0.1:{port}/big.bin")
            assert got == size
            static = mb_per_s(size, seconds)
            put_copy = disk_copy(source, tmp / "copy.bin")
            put = nginx_put(f"http://127.0.0.1:{port}/put/big.bin", source, tmp / "put")
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(30)
        served = {mode: measure_server(mode, source, tmp, args) for mode in args.modes.split(",")}
        copy_after = disk_copy(source, tmp / "copy.bin")
    print(f"{args.size_mib} MiB file, tus PATCH {args.chunk_mib} MiB each, curl downloads")
    print(f"load average before: {load_before}   after: {load_average()}")
    print(f"disk copy (shutil.copyfile + sync)  {copy:8.0f} MB/s before, {copy_after:.0f} after")
    print(f"nginx static download               {static:8.0f} MB/s")
    print(
        f"nginx PUT upload (curl -T, + sync)   {put:8.0f} MB/s   ratio to disk copy"
        f" {put / put_copy:.2f} (copy just before: {put_copy:.0f} MB/s)"
    )
    for mode, result in served.items():
        print(f"-- meatlizard serve, INFERENCE={mode}")
        up, down, chunked = result["upload"], result["download"], result["chunked"]
        print(
            f"upload   {up:8.0f} MB/s   ratio to disk copy {up / result['copy']:.2f}"
            f" (target >= 0.50; copy just before: {result['copy']:.0f} MB/s)"
            f"   server CPU {result['upload_cpu']:.2f} s/GiB"
        )
        print(f"  ratio to nginx PUT {up / put:.2f}")
        print(f"  (Python httpx client, {args.chunk_mib} MiB PATCHes: {chunked:.0f} MB/s)")
        print(
            f"download {down:8.0f} MB/s   ratio to nginx {down / static:.2f} (target >= 0.70)"
            f"   server CPU {result['download_cpu']:.2f} s/GiB"
        )
        print(
            f"server RSS idle {result['idle_rss']:.0f} MiB; peak (VmHWM) after start-up and"
            f" login {result['login_hwm']:.0f} MiB, after uploads {result['upload_hwm']:.0f} MiB,"
            f" at the end {result['peak']:.0f} MiB"
        )
        if "model_rss" in result:
            print(
                f"with the model loaded for one answer: RSS {result['model_rss']:.0f} MiB;"
                f" {KEEP_ALIVE_SECONDS} s after (MODEL_KEEP_ALIVE) {result['freed_rss']:.0f} MiB"
            )


if __name__ == "__main__":
    main()
