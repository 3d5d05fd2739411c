"""Discord identities and channels linked to platform accounts and chat sessions."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin import audit
from meatlizard.auth.models import User
from meatlizard.auth.service import DISCORD_NAME_PREFIX, NO_PASSWORD
from meatlizard.chat.discord_channels import DiscordSessionChannel
from meatlizard.core.errors import Conflict, Forbidden

USERNAME_PREFIX = DISCORD_NAME_PREFIX
NAME_ATTEMPTS = 3


def _bot_name(key: str, attempt: int) -> str:
    """Return discord-<id>, then, should an older account hold it, discord-<id>-<random>."""
    name = f"{USERNAME_PREFIX}{key}"
    return name if attempt == 0 else f"{name}-{secrets.token_hex(2)}"


async def account_for_discord(db: AsyncSession, *, discord_id: int) -> User:
    """Return the account linked to a Discord user, creating one keyed by the Discord id."""
    key = str(discord_id)
    for attempt in range(NAME_ATTEMPTS):  # a loop, not recursion: each try is bounded
        user = await db.scalar(select(User).where(User.discord_id == key))
        if user is not None:
            break
        username = _bot_name(key, attempt)
        # No password: the account is used from Discord until its owner sets one on /account.
        user = User(
            username=username,
            username_key=username.lower(),
            password_hash=NO_PASSWORD,
            discord_id=key,
        )
        db.add(user)
        try:
            await db.flush()
        except IntegrityError:  # made concurrently by another command, or the name is held
            await db.rollback()
            continue
        audit.record(db, action="user.register.discord", actor_id=user.id, target=username)
        await db.commit()
        break
    else:
        raise Conflict("could not create an account for this Discord user; ask an admin")
    if not user.is_active:
        raise Forbidden("your account is disabled; ask an admin")
    return user


async def grant_admin_from_role(db: AsyncSession, *, user: User) -> None:
    """Make the account an admin because its Discord member holds the admin role."""
    if not user.is_admin:
        user.is_admin = True
        audit.record(db, action="user.admin.discord_role", actor_id=user.id, target=user.username)
        await db.commit()


async def remember_channel(
    db: AsyncSession, *, session_id: str, channel_id: int, guild_id: int
) -> None:
    """Record the private channel of a session."""
    db.add(
        DiscordSessionChannel(
            session_id=session_id, channel_id=str(channel_id), guild_id=str(guild_id)
        )
    )
    await db.commit()


async def channel_of(db: AsyncSession, *, session_id: str) -> int | None:
    """Return the channel id of a session, if it has one."""
    row = await db.get(DiscordSessionChannel, session_id)
    return int(row.channel_id) if row else None


async def session_of(db: AsyncSession, *, channel_id: int) -> str | None:
    """Return the session whose private channel this is."""
    return await db.scalar(
        select(DiscordSessionChannel.session_id).where(
            DiscordSessionChannel.channel_id == str(channel_id)
        )
    )


async def forget_channel(db: AsyncSession, *, session_id: str) -> None:
    """Drop the link once the channel is archived or deleted."""
    await db.execute(
        delete(DiscordSessionChannel).where(DiscordSessionChannel.session_id == session_id)
    )
    await db.commit()
