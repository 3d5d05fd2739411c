"""Password hashing and opaque tokens."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when a username does not exist, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("meatlizard-dummy-password")

SESSION_TOKEN_PREFIX = "mls_"
API_TOKEN_PREFIX = "mlt_"
TOKEN_BYTES = 32


async def hash_password(password: str) -> str:
    """Hash a password with argon2id off the event loop."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against its hash (or a dummy one) off the event loop."""

    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


def new_token(prefix: str) -> str:
    """Return a fresh random bearer token with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf_token() -> str:
    """Return a fresh CSRF token for the double-submit cookie."""
    return secrets.token_urlsafe(24)


def same_secret(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())
