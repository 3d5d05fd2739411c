"""What travels between web processes and workers: payload models in AES-256-GCM envelopes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from meatlizard.core.cache import Cache
from meatlizard.core.settings import Settings
from meatlizard.relay import envelope
from meatlizard.relay.envelope import EnvelopeError, Keyring, Opened
from meatlizard.relay.replay import ReplayGuard


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
    # Which delivery of the request this is: 1, then +1 each time a worker takes it over.
    attempt: int = Field(default=1, ge=1)


class ChunkPayload(BaseModel):
    type: Literal["chunk"] = "chunk"
    session_id: str
    request_id: str
    sequence: int = Field(ge=0)
    text: str
    # The attempt whose generation produced the text: chunks of two attempts never splice.
    attempt: int = Field(default=1, ge=1)


class ResponsePayload(BaseModel):
    type: Literal["response"] = "response"
    session_id: str
    request_id: str
    response: str
    metrics: dict[str, Any]
    attempt: int = Field(default=1, ge=1)


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
    """Seal payloads in version-2 envelopes; open them with the freshness and replay checks."""

    def __init__(
        self, keyring: Keyring, guard: ReplayGuard, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.keyring = keyring
        self.guard = guard
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, cache: Cache) -> PayloadSealer:
        assert settings.payload_encryption_key is not None
        keyring = Keyring.from_hex(
            settings.payload_encryption_key.get_secret_value(),
            settings.payload_previous_key_list,
            settings.payload_previous_keys_until,
        )
        return cls(keyring, ReplayGuard(cache, window_seconds=settings.payload_max_age_seconds))

    def seal(self, payload: BaseModel) -> bytes:
        """Encrypt a payload with the current key, a fresh nonce and the time now."""
        data = payload.model_dump(mode="json")
        return envelope.seal(
            self.keyring.current,
            json.dumps(data, separators=(",", ":"), sort_keys=True).encode(),
            session_id=data.get("session_id", ""),
            request_id=data.get("request_id", ""),
            timestamp_ms=int(self._clock() * 1000),
        )

    async def open(
        self,
        blob: bytes,
        *,
        scope: str,
        token: str | None = None,
        session_id: str | None = None,
        request_id: str | None = None,
    ) -> Any:
        """Open a message meant to be consumed once in `scope` (see ReplayGuard.consume)."""
        opened = self._authenticate(blob, session_id, request_id)
        await self.guard.consume(opened, scope=scope, token=token)
        return self._parse(opened)

    def open_snapshot(self, blob: bytes) -> Any:
        """Open a state snapshot that many readers read many times: freshness only."""
        opened = self._authenticate(blob, None, None)
        self.guard.check_fresh(opened)
        return self._parse(opened)

    def _authenticate(self, blob: bytes, session_id: str | None, request_id: str | None) -> Opened:
        moment = datetime.fromtimestamp(self._clock(), UTC)
        opened = envelope.open_envelope(self.keyring.opening_keys(moment), blob)
        if session_id is not None and opened.session_id != session_id:
            raise EnvelopeError("envelope belongs to another session")
        if request_id is not None and opened.request_id != request_id:
            raise EnvelopeError("envelope belongs to another request")
        return opened

    @staticmethod
    def _parse(opened: Opened) -> Any:
        try:
            payload = _payload.validate_json(opened.plaintext)
        except ValidationError as exc:
            raise EnvelopeError(
                f"envelope holds no valid payload: {exc.error_count()} errors"
            ) from None
        ids = (getattr(payload, "session_id", ""), getattr(payload, "request_id", ""))
        if ids != (opened.session_id, opened.request_id):
            raise EnvelopeError("payload ids differ from the envelope's associated data")
        return payload
