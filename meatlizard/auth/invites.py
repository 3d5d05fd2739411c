"""Invite codes for REGISTRATION=invite-only: admins make them, each opens one account."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from meatlizard.auth.models import User
from meatlizard.core.db import Base, UTCDateTime, utcnow
from meatlizard.core.errors import Forbidden, NotFound

MAX_INVITE_HOURS = 24 * 365
UNUSABLE = "that invite code is unknown, already used or expired"


class Invite(Base):
    """One invite code (stored hashed) and whether it was used."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    used_by: Mapped[str | None] = mapped_column(String(32), default=None)


class InviteCreate(BaseModel):
    """How long a new invite code stays usable."""

    model_config = ConfigDict(extra="forbid")

    expires_in_hours: int = Field(default=72, ge=1, le=MAX_INVITE_HOURS)


class InviteRead(BaseModel):
    """An invite as admins see it; `code` only in the answer that created it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: str | None
    code: str | None = None


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def create_invite(db: AsyncSession, *, actor: User, hours: int) -> InviteRead:
    """Make a single-use invite code; the code is shown once."""
    code = secrets.token_urlsafe(18)
    invite = Invite(
        code_hash=_digest(code),
        created_by=actor.id,
        expires_at=utcnow() + timedelta(hours=hours),
    )
    db.add(invite)
    await db.commit()
    read = InviteRead.model_validate(invite)
    read.code = code
    return read


async def list_invites(db: AsyncSession) -> list[InviteRead]:
    """List every invite, newest first."""
    rows = await db.scalars(select(Invite).order_by(Invite.id.desc()))
    return [InviteRead.model_validate(row) for row in rows]


async def delete_invite(db: AsyncSession, *, invite_id: int) -> None:
    """Withdraw an invite."""
    invite = await db.get(Invite, invite_id)
    if invite is None:
        raise NotFound("no such invite")
    await db.delete(invite)
    await db.commit()


async def redeem(db: AsyncSession, *, code: str, username: str) -> None:
    """Use up an invite inside the caller's transaction (one account per code, even racing)."""
    now = utcnow()
    result = await db.execute(
        update(Invite)
        .where(Invite.code_hash == _digest(code), Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_at=now, used_by=username[:32])
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Forbidden(UNUSABLE)
