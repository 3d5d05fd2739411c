"""What the proxy tests share (a self-signed certificate, the proxy's handle, two web
processes) and nginx with the shipped site; Caddy is in caddy.py."""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fixtures.processes import spawn

SHIPPED = Path(__file__).parents[2] / "deploy" / "nginx" / "meatlizard.conf"
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str | None:
    """Return the installed program (Debian puts nginx in /usr/sbin), or None."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Callable[[], str]) -> None:
    """Wait until `port` accepts connections; fail with the log if the process ends first."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, log()[-3000:]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"nothing listens on {port}: {log()[-3000:]}")


def self_signed(directory: Path) -> tuple[Path, Path]:
    """Write a certificate for localhost and 127.0.0.1 and its key; return both paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def replace(shipped: Path, text: str, pattern: str, new: str, expected: int = 1) -> str:
    """Substitute, insisting that the shipped file still has what the test relies on."""
    result, count = re.subn(pattern, new, text)
    assert count == expected, f"{shipped.name}: {pattern!r} found {count} times, not {expected}"
    return result


def site_for_test(upstreams: list[int], http_port: int, https_port: int, certs: Path) -> str:
    """The shipped site with this run's ports and certificate; nothing else changed."""
    text = SHIPPED.read_text()
    ports = iter(upstreams)
    text, count = re.subn(
        r"server 127\.0\.0\.1:800\d ", lambda _: f"server 127.0.0.1:{next(ports)} ", text
    )
    assert count == len(upstreams), (
        f"{SHIPPED.name}: {count} upstream servers, not {len(upstreams)}"
    )
    text = replace(SHIPPED, text, r"listen 80;", f"listen 127.0.0.1:{http_port};", 1)
    text = replace(
        SHIPPED, text, r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", 1
    )
    text = replace(SHIPPED, text, r"\n\s*listen \[::\]:\d+[^\n]*;", "", 2)
    text = replace(SHIPPED, text, r"chat\.example\.org;", "localhost;", 2)
    text = replace(
        SHIPPED,
        text,
        r"/etc/letsencrypt/live/chat\.example\.org/fullchain\.pem",
        str(certs / "cert.pem"),
    )
    return replace(
        SHIPPED,
        text,
        r"/etc/letsencrypt/live/chat\.example\.org/privkey\.pem",
        str(certs / "key.pem"),
    )


def main_config(directory: Path, site: Path) -> str:
    """A minimal nginx.conf (Debian's, reduced) that includes the site."""
    temp = " ".join(
        f"{kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"worker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n  access_log {directory / 'access.log'};\n  {temp}\n"
        f"  include {site};\n}}\n"
    )


@dataclass
class Proxy:
    """A proxy in front of the web processes; `tls` trusts its certificate."""

    http_port: int
    https_port: int
    tls: ssl.SSLContext
    process: subprocess.Popen[bytes]
    graceful_stop: signal.Signals  # closes open sockets, then exits
    log_path: Path

    def log_tail(self) -> str:
        """The end of what the proxy logged (its errors say why a request broke)."""
        return self.log_path.read_text(errors="replace")[-3000:]

    @property
    def https(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def stop(self) -> None:
        self.process.send_signal(self.graceful_stop)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# Starts a shipped proxy in a folder of its own, in front of the given upstream ports.
Launch = Callable[[list[int]], Proxy]


def start_proxy(
    check: list[str],
    run: list[str],
    directory: Path,
    ports: tuple[int, int],
    graceful_stop: signal.Signals,
    env: dict[str, str] | None = None,
) -> Proxy:
    """Check the configuration, start the proxy and wait until it accepts connections."""
    checked = subprocess.run(check, capture_output=True, env=env)
    assert checked.returncode == 0, (checked.stdout + checked.stderr).decode(errors="replace")
    log = directory / "proxy.log"
    with log.open("wb") as output:
        process = spawn(run, stdout=output, stderr=output, env=env)
    http_port, https_port = ports
    wait_listening(https_port, process, lambda: log.read_text(errors="replace"))
    tls = ssl.create_default_context(cafile=str(directory / "cert.pem"))
    return Proxy(http_port, https_port, tls, process, graceful_stop, log)


def start_nginx(binary: str, directory: Path, upstreams: list[int]) -> Proxy:
    """Start nginx on free ports with the shipped site and this run's certificate."""
    self_signed(directory)
    ports = free_port(), free_port()
    site = directory / "meatlizard.conf"
    site.write_text(site_for_test(upstreams, *ports, directory))
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / kind).mkdir()
    conf = directory / "nginx.conf"
    conf.write_text(main_config(directory, site))
    options = [binary, "-p", str(directory), "-c", str(conf)]
    run = [*options, "-g", "daemon off; master_process on;"]
    return start_proxy([*options, "-t"], run, directory, ports, signal.SIGQUIT)


@dataclass
class WebPair:
    """Two `meatlizard serve` processes sharing PostgreSQL, Redis and one storage folder."""

    env: dict[str, str]
    logs: Path
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        for _ in range(2):
            port = free_port()
            with open(self.logs / f"web-{port}.log", "wb") as log:
                command = [sys.executable, "-m", "meatlizard", "serve", "--port", str(port)]
                self.processes.append(spawn(command, env=self.env, stdout=log, stderr=log))
            self.ports.append(port)
        for port, process in zip(self.ports, self.processes, strict=True):
            wait_listening(port, process, partial(self.log, port))

    def log(self, port: int) -> str:
        return (self.logs / f"web-{port}.log").read_text(errors="replace")

    def _access(self) -> list[list[dict[str, object]]]:
        """Each process's access-log records (JSON lines)."""
        found = []
        for port in self.ports:
            records = []
            for line in self.log(port).splitlines():
                if line.startswith("{") and '"meatlizard.access"' in line:
                    records.append(json.loads(line))
            found.append(records)
        return found

    def health_checks_served(self, client: str) -> list[int]:
        """How many /healthz requests of `client` (not the proxy's own checks) each answered."""
        return [
            sum(r["msg"] == "GET /healthz 200" and r["client"] == client for r in records)
            for records in self._access()
        ]

    async def seen_addresses(self, path: str) -> set[object]:
        """The client addresses the processes logged for `path` (the log is written at once)."""
        return {
            r["client"]
            for records in self._access()
            for r in records
            if f" {path} " in str(r["msg"])
        }

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
