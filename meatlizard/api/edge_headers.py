"""Security headers of HTML pages and who may read /metrics.

Pages load scripts and styles from this site only (no inline script or style), so the policy
needs no 'unsafe-inline'. Images and media may come from S3 when downloads redirect there.
Only the video embed may be framed by other sites.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from meatlizard.core.settings import Settings


def content_security_policy(settings: Settings, *, embed: bool = False) -> str:
    """Return the Content-Security-Policy of HTML pages (embed pages may be framed anywhere)."""
    s3 = ""
    if settings.files_s3_redirect and settings.s3_endpoint_url:
        parts = urlsplit(settings.s3_endpoint_url)
        s3 = f" {parts.scheme}://{parts.netloc}"
    ancestors = "*" if embed else "'none'"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{s3}",
            f"media-src 'self' data: blob:{s3}",
            f"connect-src 'self'{s3}",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        ]
    )


def html_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """Return the headers every HTML page gets unless it set its own."""
    return [
        (b"content-security-policy", content_security_policy(settings).encode("latin-1")),
        (b"x-frame-options", b"DENY"),
    ]


def is_loopback(host: str | None) -> bool:
    """Return True for a client on this machine."""
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
