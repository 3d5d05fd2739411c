"""Rate limits written as `20/minute`."""

from __future__ import annotations

import re

from pydantic import BaseModel

RATE_RE = re.compile(r"^(\d+)/(second|minute|hour|day)$")
RATE_WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class Rate(BaseModel):
    """A limit such as `20/minute`: at most `count` events per `window_seconds`."""

    count: int
    window_seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = RATE_RE.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a rate like '20/minute' (second|minute|hour|day)")
        count = int(match.group(1))
        if count < 1:
            raise ValueError("a rate must allow at least one event")
        return cls(count=count, window_seconds=RATE_WINDOW_SECONDS[match.group(2)])


def check_rate(value: str) -> str:
    """Validate a rate setting, returning it unchanged."""
    Rate.parse(value)
    return value
