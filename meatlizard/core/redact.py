"""Secrets kept out of log lines: query tokens and keys, URL passwords."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# Query parameters that carry a credential (`?token=` opens chat sockets, `?key=` files).
SECRET_PARAMS = ("token", "access_token", "key", "password", "secret", "api_key", "code", "state")
_QUERY = re.compile(r"([?&](?:" + "|".join(SECRET_PARAMS) + r")=)[^&\s\"'#]*", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)


def redact(text: str) -> str:
    """Return `text` with query credentials and URL passwords replaced by [redacted]."""
    text = _QUERY.sub(rf"\g<1>{REDACTED}", text)
    return _URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)


class RedactingFilter(logging.Filter):
    """Rewrite every record's message (uvicorn's socket lines too) without its secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
