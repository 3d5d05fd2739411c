"""Caddy with the shipped Caddyfile and the test's certificate, in front of the web processes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.deploy.proxy import Proxy, free_port, replace, self_signed, start_proxy

SHIPPED = Path(__file__).parents[2] / "deploy" / "caddy" / "Caddyfile"
OWN_CERTIFICATE = r"# tls /etc/ssl/meatlizard/fullchain\.pem /etc/ssl/meatlizard/privkey\.pem"


def caddyfile_for_test(http_port: int, https_port: int, certs: Path) -> str:
    """The shipped Caddyfile with this run's certificate and ports; nothing else changed."""
    text = replace(
        SHIPPED,
        SHIPPED.read_text(),
        OWN_CERTIFICATE,
        f"tls {certs / 'cert.pem'} {certs / 'key.pem'}",
    )
    # Global options come first: free loopback ports instead of 80 and 443 on every address,
    # and no admin endpoint on localhost:2019, which two test processes would share.
    options = (
        f"admin off\n\tdefault_bind 127.0.0.1\n\thttp_port {http_port}\n\thttps_port {https_port}"
    )
    return f"{{\n\t{options}\n}}\n{text}"


def start_caddy(binary: str, directory: Path, upstreams: list[int]) -> Proxy:
    """Start Caddy on free ports, its state in `directory`, the domain and upstreams by env."""
    self_signed(directory)
    ports = free_port(), free_port()
    config = directory / "Caddyfile"
    config.write_text(caddyfile_for_test(*ports, directory))
    env = {
        **os.environ,
        "MEATLIZARD_DOMAIN": "localhost",
        "MEATLIZARD_UPSTREAMS": " ".join(f"127.0.0.1:{port}" for port in upstreams),
        "XDG_DATA_HOME": str(directory / "data"),  # certificates, locks
        "XDG_CONFIG_HOME": str(directory / "config"),  # the autosaved configuration
    }
    options = ["--config", str(config), "--adapter", "caddyfile"]
    check, run = [binary, "validate", *options], [binary, "run", *options]
    return start_proxy(check, run, directory, ports, signal.SIGTERM, env)
