"""What travels between web processes and workers: payload models, sealed with AES-256-GCM.

Interim home of the wire format used by the Redis transport; the full envelope
(key rotation, replay protection, documented byte layout) lives in meatlizard.protocol.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from meatlizard.core.cache import Cache
from meatlizard.core.config import Settings

NONCE_BYTES = 12
VERSION = b"\x01"


class EnvelopeError(Exception):
    """A sealed message could not be opened: tampered, wrong key or malformed."""


class TurnPayload(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class RequestPayload(BaseModel):
    type: Literal["request"] = "request"
    session_id: str
    request_id: str
    prompt: str
    system_prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    model_alias: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    messages: list[TurnPayload] | None = None


class ChunkPayload(BaseModel):
    type: Literal["chunk"] = "chunk"
    session_id: str
    request_id: str
    sequence: int = Field(ge=0)
    text: str


class ResponsePayload(BaseModel):
    type: Literal["response"] = "response"
    session_id: str
    request_id: str
    response: str
    metrics: dict[str, Any]


class ErrorPayload(BaseModel):
    type: Literal["error"] = "error"
    session_id: str
    request_id: str
    error_message: str


class CancelPayload(BaseModel):
    type: Literal["cancel"] = "cancel"
    session_id: str
    request_id: str


class GpuStats(BaseModel):
    utilization: float | None = None
    memory_free: float | None = None
    memory_used: float | None = None
    temperature: float | None = None


class ClientMetricsPayload(BaseModel):
    type: Literal["metrics"] = "metrics"
    timestamp: float
    gpu_stats: GpuStats
    tokens_per_second: float
    is_online: bool


Payload = Annotated[
    RequestPayload
    | ChunkPayload
    | ResponsePayload
    | ErrorPayload
    | CancelPayload
    | ClientMetricsPayload,
    Field(discriminator="type"),
]
_payload = TypeAdapter(Payload)


class PayloadSealer:
    """Seal payloads as version || nonce || AES-256-GCM(JSON), ids bound as associated data."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings, cache: Cache | None = None) -> PayloadSealer:
        assert settings.payload_encryption_key is not None
        return cls(bytes.fromhex(settings.payload_encryption_key.get_secret_value()))

    @staticmethod
    def _aad(payload: dict[str, Any]) -> bytes:
        return f"{payload.get('session_id', '')}\x00{payload.get('request_id', '')}".encode()

    def seal(self, payload: BaseModel) -> bytes:
        data = payload.model_dump(mode="json")
        header = json.dumps(
            {"session_id": data.get("session_id", ""), "request_id": data.get("request_id", "")}
        ).encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, json.dumps(data).encode(), self._aad(data))
        return VERSION + len(header).to_bytes(2, "big") + header + nonce + sealed

    def open(
        self, blob: bytes, *, session_id: str | None = None, request_id: str | None = None
    ) -> Any:
        try:
            if blob[:1] != VERSION:
                raise EnvelopeError("unknown envelope version")
            size = int.from_bytes(blob[1:3], "big")
            header = json.loads(blob[3 : 3 + size])
            nonce = blob[3 + size : 3 + size + NONCE_BYTES]
            body = self._aead.decrypt(nonce, blob[3 + size + NONCE_BYTES :], self._aad(header))
            payload = _payload.validate_json(body)
        except (InvalidTag, ValueError, ValidationError) as exc:
            raise EnvelopeError(f"cannot open envelope: {type(exc).__name__}") from None
        if session_id is not None and getattr(payload, "session_id", None) != session_id:
            raise EnvelopeError("envelope belongs to another session")
        if request_id is not None and getattr(payload, "request_id", None) != request_id:
            raise EnvelopeError("envelope belongs to another request")
        return payload
