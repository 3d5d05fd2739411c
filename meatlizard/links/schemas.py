"""Request and response bodies of the links API."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from meatlizard.core.numbers import Int64

TAG_RE = re.compile(r"^[\w.-]{1,32}$")
MAX_TAGS = 10


def _aware(value: datetime | None) -> datetime | None:
    """Read a datetime without a zone as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
    if len(cleaned) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for tag in cleaned:
        if not TAG_RE.match(tag):
            raise ValueError(f"tag {tag!r}: use 1-32 letters, digits, '.', '_' or '-'")
    return cleaned


class LinkOptions(BaseModel):
    """Options shared by creation and edits."""

    title: str = Field(default="", max_length=200)
    tags: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None
    max_clicks: Int64 | None = Field(default=None, ge=1, le=1_000_000_000)
    password: str | None = Field(default=None, min_length=1, max_length=200)

    _tags = field_validator("tags")(_clean_tags)
    _expiry = field_validator("expires_at")(_aware)


class LinkCreate(LinkOptions):
    """A new short link."""

    url: str = Field(min_length=1)
    slug: str | None = None
    enabled: bool = True


class LinkUpdate(LinkOptions):
    """Changes to a link; only the fields sent change, and null clears an option."""

    url: str | None = None
    title: str = Field(default="", max_length=200)
    enabled: bool | None = None


class LinkRead(BaseModel):
    """A link, its options and where to find it."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    url: str = Field(validation_alias="target_url")
    title: str
    tags: list[str]
    enabled: bool
    taken_down: bool = False  # removed by the moderators after a report
    max_clicks: int | None
    clicks: int
    bot_clicks: int
    created_at: datetime
    expires_at: datetime | None
    owner: str | None = None
    has_password: bool = False
    short_url: str = ""
    preview_url: str = ""
    qr_url: str = ""
    stats_url: str = ""
    delete_token: str | None = None  # only in the creation answer of an anonymous link


class Count(BaseModel):
    """How many clicks one value got."""

    value: str
    count: int


class CountryCount(Count):
    """Clicks from one country: its ISO 3166 code (or "unknown"), name and flag."""

    name: str
    flag: str


class DayCount(BaseModel):
    """Clicks of one UTC day."""

    day: date
    clicks: int
    bots: int


class LinkStats(BaseModel):
    """Clicks over time and by referrer, browser, OS and bot."""

    slug: str
    clicks: int
    bot_clicks: int
    days: list[DayCount]
    referrers: list[Count]
    browsers: list[Count]
    os: list[Count]
    bots: list[Count]
    # Clicks by country (people only), or null when no GEOIP_DATABASE is configured.
    countries: list[CountryCount] | None = None
