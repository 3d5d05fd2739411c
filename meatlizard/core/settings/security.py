"""Keys and secrets: the session key and the relay payload keys (with rotation)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import BaseModel, Field, SecretStr, field_validator

HEX_KEY_RE = re.compile(r"^[0-9a-fA-F]{64}$")


class SecuritySettings(BaseModel):
    secret_key: SecretStr | None = None
    payload_encryption_key: SecretStr | None = None
    # Key rotation: comma-separated old keys that still open messages until the deadline.
    payload_previous_keys: SecretStr | None = None
    payload_previous_keys_until: datetime | None = None
    # Envelopes older (or further in the future) than this are refused as replays.
    payload_max_age_seconds: int = Field(default=300, ge=10, le=86400)

    @field_validator("payload_encryption_key")
    @classmethod
    def _check_payload_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not HEX_KEY_RE.match(value.get_secret_value()):
            raise ValueError(
                "must be 64 hexadecimal characters (32 bytes); run `meatlizard keygen`"
            )
        return value

    @field_validator("payload_previous_keys")
    @classmethod
    def _check_previous_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        for key in value.get_secret_value().split(","):
            if not HEX_KEY_RE.match(key.strip()):
                raise ValueError("must be comma-separated keys of 64 hexadecimal characters")
        return value

    @field_validator("payload_previous_keys_until")
    @classmethod
    def _check_until(cls, value: datetime | None) -> datetime | None:
        # A deadline without a zone is read as UTC, the same on every host.
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters long")
        return value

    def _payload_keys_problem(self) -> str | None:
        if self.payload_previous_keys and not self.payload_previous_keys_until:
            return (
                "PAYLOAD_PREVIOUS_KEYS needs PAYLOAD_PREVIOUS_KEYS_UNTIL "
                "(UTC time after which the old keys are refused)"
            )
        return None

    @property
    def payload_previous_key_list(self) -> list[str]:
        """Return the old payload keys still accepted for opening (hex)."""
        if self.payload_previous_keys is None:
            return []
        return [k.strip() for k in self.payload_previous_keys.get_secret_value().split(",")]
