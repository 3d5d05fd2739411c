"""Password hashing and opaque tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with OWASP's first recommended configuration (Password Storage Cheat Sheet:
# "m=19456 (19 MiB), t=2, p=1"), which RFC 9106 and OWASP rate as equivalent in strength to
# argon2-cffi's default (m=64 MiB, t=3, p=4) but needs a third of the memory per hash: a
# login burst on a small server cannot grow the process by 64 MiB a login. Hashes made with
# other parameters still verify (the parameters are in the hash) and are replaced on the
# next successful login (see `needs_rehash`).
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
# At most this many hashes run at once (each holds ARGON2_MEMORY_KIB); more wait their turn,
# so peak hashing memory is bounded by MAX_CONCURRENT_HASHES x 19 MiB whatever the burst.
MAX_CONCURRENT_HASHES = max(1, min(4, os.cpu_count() or 1))

_hasher = PasswordHasher(
    time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM
)
# A pool of its own (not asyncio's default one) bounds the hashes without blocking file I/O.
_hash_pool = ThreadPoolExecutor(MAX_CONCURRENT_HASHES, thread_name_prefix="argon2")
_T = TypeVar("_T")
# Verified against when a username does not exist, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("meatlizard-dummy-password")

SESSION_TOKEN_PREFIX = "mls_"
API_TOKEN_PREFIX = "mlt_"
TOKEN_BYTES = 32


async def _in_hash_pool(work: Callable[[], _T]) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_hash_pool, work)


async def hash_password(password: str) -> str:
    """Hash a password with argon2id off the event loop."""
    return await _in_hash_pool(lambda: _hasher.hash(password))


def needs_rehash(password_hash: str) -> bool:
    """Return whether a stored hash was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against its hash (or a dummy one) off the event loop."""

    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await _in_hash_pool(_verify)


def new_token(prefix: str) -> str:
    """Return a fresh random bearer token with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf_token(session: str | None) -> str:
    """Return a fresh CSRF token for the double-submit cookie, bound to the session cookie.

    A plain random token would let anyone who can plant a cookie for the site (a sibling
    subdomain, say) choose the token and then send it: OWASP's "signed double-submit
    cookie". The token is a nonce and its HMAC keyed by the session cookie's value, which
    pages cannot read (HttpOnly), so no other session's token, nor one made up, passes.
    """
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_csrf_mac(nonce, session)}"


def csrf_token_fits(token: str | None, session: str | None) -> bool:
    """Say whether a CSRF token was made for this session cookie (or for none, when None)."""
    nonce, dot, mac = (token or "").partition(".")
    return bool(nonce and dot) and same_secret(mac, _csrf_mac(nonce, session))


def _csrf_mac(nonce: str, session: str | None) -> str:
    digest = hmac.new((session or "").encode(), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def same_secret(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


def secure_cookie(setting: bool | None, scheme: str) -> bool:
    """Whether a cookie gets the Secure flag: the setting, or else whether the request was https."""
    return scheme in ("https", "wss") if setting is None else setting
