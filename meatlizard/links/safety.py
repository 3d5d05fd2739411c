"""What a link may point to and what a custom slug may be."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from meatlizard.core.errors import InvalidInput
from meatlizard.links.models import SLUG_MAX_LENGTH

SLUG_MIN_LENGTH = 3
SLUG_RE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_-]{{{SLUG_MIN_LENGTH - 1},{SLUG_MAX_LENGTH - 1}}}$")
ALLOWED_SCHEMES = frozenset({"http", "https"})
# Prefixes of the platform's own pages and files, plus names that would confuse readers.
RESERVED_SLUGS = frozenset(
    {
        "api", "static", "s", "p", "f", "v", "admin", "login", "logout", "register",
        "account", "chat", "paste", "links", "files", "videos", "mine", "docs", "redoc",
        "openapi.json", "healthz", "readyz", "metrics", "favicon.ico", "robots.txt", "new",
        "edit", "stats", "qr", "preview", "help", "about", "www",
    }
)  # fmt: skip
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@dataclass(frozen=True)
class TargetRules:
    """The operator's limits on link targets."""

    max_url_length: int
    blocked_domains: tuple[str, ...] = ()
    own_hosts: frozenset[str] = field(default_factory=frozenset)  # the shortener's host names


def check_slug(slug: str, reserved: Iterable[str] = ()) -> str:
    """Return a custom slug if its charset, length and name are acceptable."""
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            f"slug must be {SLUG_MIN_LENGTH}-{SLUG_MAX_LENGTH} letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if slug.lower() in RESERVED_SLUGS or slug.lower() in set(reserved):
        raise InvalidInput(f"slug {slug!r} is reserved; pick another")
    return slug


def _host_matches(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the IP a host names literally, in any form a browser reads (`127.1`, `0x7f.1`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host.isascii() and re.fullmatch(r"[0-9a-fA-Fx.]+", host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def names_this_machine(host: str, own_hosts: Iterable[str]) -> bool:
    """Return True for a loopback alias (localhost, 127/8, ::1, 0.0.0.0) or one of own_hosts."""
    if host == "localhost" or host.endswith(".localhost") or _host_matches(host, own_hosts):
        return True
    address = _address(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    own = {_address(h) for h in own_hosts} - {None}
    return address.is_loopback or address.is_unspecified or address in own


def check_target(url: str, rules: TargetRules) -> str:
    """Return a safe http(s) URL, or refuse it with the reason."""
    url = url.strip()
    if len(url) > rules.max_url_length:
        raise InvalidInput(f"URL is {len(url)} characters; the limit is {rules.max_url_length}")
    if _CONTROL_OR_SPACE.search(url):
        raise InvalidInput("URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise InvalidInput("URL is malformed") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        shown = parts.scheme or "none"
        raise InvalidInput(f"only http:// and https:// links are allowed (scheme: {shown})")
    if not host:
        raise InvalidInput("URL has no host name")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("URL may not carry a user name or password")
    try:
        ascii_host = host.encode("idna").decode()
    except UnicodeError:
        raise InvalidInput(f"host {host!r} is not a valid domain name") from None
    if names_this_machine(host, rules.own_hosts):
        raise InvalidInput("links to this shortener itself are refused (they would loop)")
    if _host_matches(host, rules.blocked_domains):
        raise InvalidInput(f"links to {host} are blocked on this server")
    # ASCII only, so the URL fits in a Location header: IDNA host, percent-encoded rest.
    netloc = ascii_host if parts.port is None else f"{ascii_host}:{parts.port}"
    if ":" in ascii_host:  # an IPv6 literal keeps its brackets
        netloc = parts.netloc
    rest = [_NON_ASCII.sub(lambda m: quote(m.group()), p) for p in (parts.path, parts.query)]
    fragment = _NON_ASCII.sub(lambda m: quote(m.group()), parts.fragment)
    return urlunsplit((parts.scheme.lower(), netloc, rest[0], rest[1], fragment))
