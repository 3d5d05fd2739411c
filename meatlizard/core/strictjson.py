"""Strict JSON reading for everything clients send: what a browser's JSON.stringify can write.

Refused: invalid UTF-8, lone surrogate escapes, NaN/Infinity, numbers too large for a
finite float (`1e400`), and nesting deeper than the parser's limit (about 200 levels).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic_core import from_json


class InvalidJson(ValueError):
    """The bytes are not strict JSON; the message says where and why."""


def loads(data: bytes | str) -> Any:
    """Parse strict JSON, or raise InvalidJson."""
    try:
        value = from_json(data, allow_inf_nan=False)
    except ValueError as exc:
        raise InvalidJson(str(exc)) from None
    if not _finite(value):
        raise InvalidJson("a number is too large for a finite float")
    return value


def _finite(value: Any) -> bool:
    """Return False if any float in the parsed document overflowed to infinity."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True
