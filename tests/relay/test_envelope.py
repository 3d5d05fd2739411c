"""The version-2 envelope: committed vectors, an independent decoder, every tamper case."""

from __future__ import annotations

import hashlib
import json
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from meatlizard.relay.envelope import (
    EnvelopeError,
    Keyring,
    key_id,
    open_envelope,
    seal,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "envelope_v2.json").read_text())
KEY = bytes(range(32))
OTHER_KEY = bytes(range(32, 64))
NOW_MS = 1_735_689_600_000


def _ids(vector: dict[str, Any]) -> str:
    return str(vector["name"])


def independent_open(key_hex: str, envelope_hex: str) -> dict[str, Any]:
    """Decode an envelope following docs/protocol.md only (AESGCM + struct, no project code)."""
    key, blob = bytes.fromhex(key_hex), bytes.fromhex(envelope_hex)
    version, kid, timestamp_ms, nonce = struct.unpack(">B8sQ12s", blob[:29])
    assert version == 2
    assert kid == hashlib.sha256(key).digest()[:8]
    offset, ids = 29, []
    for _ in range(2):
        (size,) = struct.unpack(">H", blob[offset : offset + 2])
        ids.append(blob[offset + 2 : offset + 2 + size].decode("utf-8"))
        offset += 2 + size
    assert len(blob) >= offset + 16
    plaintext = AESGCM(key).decrypt(nonce, blob[offset:], blob[:offset])
    return {
        "key_id": kid.hex(),
        "timestamp_ms": timestamp_ms,
        "nonce": nonce.hex(),
        "session_id": ids[0],
        "request_id": ids[1],
        "plaintext": plaintext.decode("utf-8"),
    }


@pytest.mark.parametrize("vector", VECTORS["positive"], ids=_ids)
def test_sealing_reproduces_the_vector(vector: dict[str, Any]) -> None:
    blob = seal(
        bytes.fromhex(vector["key"]),
        vector["plaintext"].encode(),
        session_id=vector["session_id"],
        request_id=vector["request_id"],
        timestamp_ms=vector["timestamp_ms"],
        nonce=bytes.fromhex(vector["nonce"]),
    )
    assert blob.hex() == vector["envelope"]


@pytest.mark.parametrize("vector", VECTORS["positive"], ids=_ids)
def test_the_documented_format_is_enough_to_decode_the_vector(vector: dict[str, Any]) -> None:
    decoded = independent_open(vector["key"], vector["envelope"])
    assert decoded == {name: vector[name] for name in decoded}
    json.loads(decoded["plaintext"])


@pytest.mark.parametrize("vector", VECTORS["positive"], ids=_ids)
def test_opening_the_vector(vector: dict[str, Any]) -> None:
    key = bytes.fromhex(vector["key"])
    opened = open_envelope({key_id(key): key}, bytes.fromhex(vector["envelope"]))
    assert opened.plaintext.decode() == vector["plaintext"]
    assert (opened.session_id, opened.request_id) == (vector["session_id"], vector["request_id"])
    assert opened.timestamp_ms == vector["timestamp_ms"]


@pytest.mark.parametrize("vector", VECTORS["negative"], ids=_ids)
def test_negative_vectors_are_refused(vector: dict[str, Any]) -> None:
    key = bytes.fromhex(vector["key"])
    with pytest.raises(EnvelopeError, match=vector["error"]):
        opened = open_envelope({key_id(key): key}, bytes.fromhex(vector["envelope"]))
        if "expected_session_id" in vector and opened.session_id != vector["expected_session_id"]:
            raise EnvelopeError("envelope belongs to another session")
    # The independent decoder refuses them too (or, for wrong-session, sees other ids).
    try:
        decoded = independent_open(vector["key"], vector["envelope"])
    except (AssertionError, InvalidTag, UnicodeDecodeError, struct.error):
        return
    assert decoded["session_id"] != vector.get("expected_session_id")


def _sealed(**kw: Any) -> bytes:
    args: dict[str, Any] = {"session_id": "s1", "request_id": "r1", "timestamp_ms": NOW_MS}
    return seal(KEY, b'{"type":"chunk"}', **{**args, **kw})


def test_round_trip_and_fresh_nonces() -> None:
    first, second = _sealed(), _sealed()
    assert first != second
    assert first[17:29] != second[17:29]
    for blob in (first, second):
        opened = open_envelope({key_id(KEY): KEY}, blob)
        assert opened.plaintext == b'{"type":"chunk"}'
        assert (opened.session_id, opened.request_id, opened.timestamp_ms) == ("s1", "r1", NOW_MS)


def _regions(blob: bytes) -> dict[str, range]:
    end_ids = 29 + 2 + 2 + 2 + 2  # "s1" and "r1"
    return {
        "version": range(0, 1),
        "key id": range(1, 9),
        "timestamp": range(9, 17),
        "nonce": range(17, 29),
        "ids": range(29, end_ids),
        "ciphertext": range(end_ids, len(blob) - 16),
        "tag": range(len(blob) - 16, len(blob)),
    }


def test_flipping_any_bit_in_any_region_is_refused() -> None:
    blob = _sealed()
    regions = _regions(blob)
    assert sum(len(r) for r in regions.values()) == len(blob)
    for region, positions in regions.items():
        for position in positions:
            for bit in range(8):
                tampered = bytearray(blob)
                tampered[position] ^= 1 << bit
                with pytest.raises(EnvelopeError):
                    open_envelope({key_id(KEY): KEY}, bytes(tampered))
                    pytest.fail(f"bit {bit} of byte {position} ({region}) went unnoticed")


def test_truncation_at_every_length_is_refused() -> None:
    blob = _sealed()
    for length in range(len(blob)):
        with pytest.raises(EnvelopeError):
            open_envelope({key_id(KEY): KEY}, blob[:length])


def test_wrong_key_is_refused_even_under_the_right_key_id() -> None:
    blob = _sealed()
    with pytest.raises(EnvelopeError, match="unknown or retired key id"):
        open_envelope({key_id(OTHER_KEY): OTHER_KEY}, blob)
    with pytest.raises(EnvelopeError, match="failed authentication"):
        open_envelope({key_id(KEY): OTHER_KEY}, blob)


def test_moving_ciphertext_to_another_session_or_request_fails() -> None:
    blob = _sealed()
    body = blob[37:]
    for session_id, request_id in (("s2", "r1"), ("s1", "r2")):
        forged = _sealed(session_id=session_id, request_id=request_id, nonce=blob[17:29])[:37]
        with pytest.raises(EnvelopeError, match="failed authentication"):
            open_envelope({key_id(KEY): KEY}, forged + body)


def test_key_id_is_the_sha256_prefix() -> None:
    assert key_id(KEY) == hashlib.sha256(KEY).digest()[:8]
    assert _sealed()[1:9] == key_id(KEY)


def test_previous_keys_open_only_until_the_deadline() -> None:
    deadline = datetime(2025, 1, 1, tzinfo=UTC)
    ring = Keyring(current=OTHER_KEY, previous=(KEY,), previous_until=deadline)
    old_message = _sealed()
    before = ring.opening_keys(deadline - timedelta(seconds=1))
    assert open_envelope(before, old_message).request_id == "r1"
    with pytest.raises(EnvelopeError, match="unknown or retired key id"):
        open_envelope(ring.opening_keys(deadline), old_message)
    assert set(ring.opening_keys(deadline)) == {key_id(OTHER_KEY)}


def test_keys_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Keyring(current=b"short")
    with pytest.raises(ValueError, match="12 bytes"):
        _sealed(nonce=b"123")
