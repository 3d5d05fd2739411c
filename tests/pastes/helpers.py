"""Helpers shared by the paste tests."""

from __future__ import annotations

import base64
import os


def ciphertext(text_bytes: int = 40) -> str:
    """Return base64 of a 12-byte IV, `text_bytes` of 'ciphertext' and a 16-byte tag."""
    return base64.b64encode(os.urandom(12 + text_bytes + 16)).decode()
