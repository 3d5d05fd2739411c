"""Short links and their aggregated click statistics."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from meatlizard.core.db import Base, UTCDateTime, utcnow

# No look-alikes: 0/O/o, 1/l/I are left out so a slug read aloud or typed is unambiguous.
SLUG_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
RANDOM_SLUG_LENGTH = 7  # 55^7 ≈ 1.5e12 slugs
SLUG_MAX_LENGTH = 64


def new_slug(length: int = RANDOM_SLUG_LENGTH) -> str:
    """Return a short random slug without look-alike characters."""
    return "".join(secrets.choice(SLUG_ALPHABET) for _ in range(length))


class Link(Base):
    """One short link: where it goes and the options that limit it."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX_LENGTH), unique=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    target_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by an admin's takedown after a report; the owner cannot enable the link again.
    taken_down: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    delete_token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    max_clicks: Mapped[int | None] = mapped_column(Integer, default=None)
    clicks: Mapped[int] = mapped_column(Integer, default=0)  # people
    bot_clicks: Mapped[int] = mapped_column(Integer, default=0)  # crawlers, previews, scripts
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True, default=None)


class TakenDownSlug(Base):
    """A slug the moderators took down: never given out again, even once its link is deleted."""

    __tablename__ = "taken_down_slugs"

    slug: Mapped[str] = mapped_column(String(SLUG_MAX_LENGTH), primary_key=True)
    taken_down_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LinkStat(Base):
    """Clicks of one link on one UTC day, counted per dimension value (referrer, browser...)."""

    __tablename__ = "link_stats"

    link_id: Mapped[int] = mapped_column(
        ForeignKey("links.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
