"""nginx with the shipped configuration and a self-signed certificate, and two web processes."""

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
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SHIPPED = Path(__file__).parents[2] / "deploy" / "nginx" / "meatlizard.conf"
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_binary() -> str | None:
    """Return Debian's nginx, or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


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


def _replace(text: str, pattern: str, new: str, expected: int) -> str:
    """Substitute, insisting that the shipped file still has what the test relies on."""
    result, count = re.subn(pattern, new, text)
    assert count == expected, f"{SHIPPED.name}: {pattern!r} found {count} times, not {expected}"
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
    text = _replace(text, r"listen 80;", f"listen 127.0.0.1:{http_port};", 1)
    text = _replace(text, r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", 1)
    text = _replace(text, r"\n\s*listen \[::\]:\d+[^\n]*;", "", 2)
    text = _replace(text, r"chat\.example\.org;", "localhost;", 2)
    text = _replace(
        text, r"/etc/letsencrypt/live/chat\.example\.org/fullchain\.pem", str(certs / "cert.pem"), 1
    )
    return _replace(
        text, r"/etc/letsencrypt/live/chat\.example\.org/privkey\.pem", str(certs / "key.pem"), 1
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
    """nginx in front of the web processes; `tls` trusts its certificate."""

    http_port: int
    https_port: int
    tls: ssl.SSLContext
    process: subprocess.Popen[bytes]

    @property
    def https(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)  # graceful: open sockets are closed
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_nginx(binary: str, directory: Path, upstreams: list[int]) -> Proxy:
    """Start nginx on free ports and wait until it accepts TLS connections."""
    cert, _ = self_signed(directory)
    http_port, https_port = free_port(), free_port()
    site = directory / "meatlizard.conf"
    site.write_text(site_for_test(upstreams, http_port, https_port, directory))
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / kind).mkdir()
    conf = directory / "nginx.conf"
    conf.write_text(main_config(directory, site))
    checked = subprocess.run(
        [binary, "-t", "-p", str(directory), "-c", str(conf)], capture_output=True
    )
    assert checked.returncode == 0, checked.stderr.decode()
    process = subprocess.Popen(
        [binary, "-p", str(directory), "-c", str(conf), "-g", "daemon off; master_process on;"],
        stderr=subprocess.PIPE,
    )
    tls = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            with socket.create_connection(("127.0.0.1", https_port), timeout=1):
                return Proxy(http_port, https_port, tls, process)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("nginx did not start listening")


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
            log = open(self.logs / f"web-{port}.log", "wb")  # noqa: SIM115 - closed with the process
            command = [sys.executable, "-m", "meatlizard", "serve", "--port", str(port)]
            self.processes.append(subprocess.Popen(command, env=self.env, stdout=log, stderr=log))
            self.ports.append(port)
        for port, process in zip(self.ports, self.processes, strict=True):
            self._wait_up(port, process)

    def _wait_up(self, port: int, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert process.poll() is None, self.log(port)[-3000:]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"web process on {port} did not start: {self.log(port)[-3000:]}")

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

    def health_checks_served(self) -> list[int]:
        """How many /healthz requests each process answered."""
        return [sum(r["msg"] == "GET /healthz 200" for r in records) for records in self._access()]

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
