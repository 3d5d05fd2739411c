"""The AES-256-GCM envelope (version 2): pure, stateless sealing and opening.

Byte layout, associated data and key ids are specified in docs/protocol.md; freshness and
replay checks live in meatlizard.relay.replay.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 2
KEY_BYTES = 32
KEY_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_ID_BYTES = 0xFFFF
# version (B), key id (8s), timestamp in ms since the Unix epoch (Q), nonce (12s).
FIXED = struct.Struct(">B8sQ12s")
ID_LENGTH = struct.Struct(">H")


class EnvelopeError(Exception):
    """A message was refused: malformed, tampered, unknown key, wrong ids, replayed or stale."""


def key_id(key: bytes) -> bytes:
    """Return the 8-byte id of a key: the first bytes of its SHA-256."""
    return hashlib.sha256(key).digest()[:KEY_ID_BYTES]


@dataclass(frozen=True)
class Keyring:
    """The current key (seals and opens) and previous keys (open only, until a deadline)."""

    current: bytes
    previous: tuple[bytes, ...] = ()
    previous_until: datetime | None = None

    def __post_init__(self) -> None:
        for key in (self.current, *self.previous):
            if len(key) != KEY_BYTES:
                raise ValueError("an AES-256 key is 32 bytes")

    @classmethod
    def from_hex(
        cls, current: str, previous: Iterable[str] = (), until: datetime | None = None
    ) -> Keyring:
        return cls(bytes.fromhex(current), tuple(bytes.fromhex(k) for k in previous), until)

    def opening_keys(self, now: datetime | None = None) -> dict[bytes, bytes]:
        """Return key id -> key for every key that may open a message at `now`."""
        keys = {key_id(self.current): self.current}
        moment = now or datetime.now(UTC)
        if self.previous_until is not None and moment < self.previous_until:
            for key in self.previous:
                keys.setdefault(key_id(key), key)
        return keys


@dataclass(frozen=True)
class Opened:
    """What an authenticated envelope carried."""

    key_id: bytes
    timestamp_ms: int
    nonce: bytes
    session_id: str
    request_id: str
    plaintext: bytes


def header(key: bytes, timestamp_ms: int, nonce: bytes, session_id: str, request_id: str) -> bytes:
    """Build the clear header; it is also the associated data of the AEAD."""
    ids = b""
    for text in (session_id, request_id):
        raw = text.encode()
        if len(raw) > MAX_ID_BYTES:
            raise ValueError("session_id and request_id are at most 65535 bytes")
        ids += ID_LENGTH.pack(len(raw)) + raw
    return FIXED.pack(VERSION, key_id(key), timestamp_ms, nonce) + ids


def seal(
    key: bytes,
    plaintext: bytes,
    *,
    session_id: str,
    request_id: str,
    timestamp_ms: int,
    nonce: bytes | None = None,
) -> bytes:
    """Encrypt `plaintext`; a fresh random nonce unless one is given (test vectors only)."""
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    if len(nonce) != NONCE_BYTES:
        raise ValueError("the nonce is 12 bytes")
    head = header(key, timestamp_ms, nonce, session_id, request_id)
    return head + AESGCM(key).encrypt(nonce, plaintext, head)


def _read_ids(blob: bytes) -> tuple[str, str, int]:
    """Return session_id, request_id and the header length."""
    offset = FIXED.size
    ids: list[str] = []
    for _ in range(2):
        if len(blob) < offset + ID_LENGTH.size:
            raise EnvelopeError("envelope is truncated")
        (size,) = ID_LENGTH.unpack_from(blob, offset)
        offset += ID_LENGTH.size
        if len(blob) < offset + size:
            raise EnvelopeError("envelope is truncated")
        try:
            ids.append(blob[offset : offset + size].decode())
        except UnicodeDecodeError:
            raise EnvelopeError("envelope ids are not UTF-8") from None
        offset += size
    return ids[0], ids[1], offset


def open_envelope(keys: dict[bytes, bytes], blob: bytes) -> Opened:
    """Authenticate and decrypt with whichever of `keys` (id -> key) the envelope names."""
    if len(blob) < FIXED.size:
        raise EnvelopeError("envelope is truncated")
    version, kid, timestamp_ms, nonce = FIXED.unpack_from(blob)
    if version != VERSION:
        raise EnvelopeError(f"unknown envelope version {version}")
    session_id, request_id, size = _read_ids(blob)
    if len(blob) < size + TAG_BYTES:
        raise EnvelopeError("envelope is truncated")
    key = keys.get(kid)
    if key is None:
        raise EnvelopeError(f"unknown or retired key id {kid.hex()}")
    try:
        plaintext = AESGCM(key).decrypt(nonce, blob[size:], blob[:size])
    except InvalidTag:
        raise EnvelopeError("envelope failed authentication (tampered or wrong key)") from None
    return Opened(kid, timestamp_ms, nonce, session_id, request_id, plaintext)
