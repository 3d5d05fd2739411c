"""Accounts: registration, login, bearer tokens."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin import audit
from meatlizard.admin.models import AppSetting
from meatlizard.auth import invites
from meatlizard.auth.models import AuthToken, TokenKind, User
from meatlizard.core import guesses
from meatlizard.core.db import utcnow
from meatlizard.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from meatlizard.core.rate_limit import RateLimiter
from meatlizard.core.security import (
    API_TOKEN_PREFIX,
    SESSION_TOKEN_PREFIX,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 256
TOKEN_NAME_MAX = 64
MAX_API_TOKENS = 50
FIRST_ADMIN_KEY = "first_admin"  # written once, by the registration that made the first admin
# An account created from Discord has no password until its owner sets one.
NO_PASSWORD = ""
# Names the bots give the accounts they create (discord-<Discord id>): nobody may register
# one, or the Discord user of that id could never get their account.
DISCORD_NAME_PREFIX = "discord-"
# Touch last_used_at at most this often, so every request is not a database write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def check_credentials_shape(username: str, password: str) -> None:
    """Raise InvalidInput unless username and password meet the account rules."""
    if not USERNAME_RE.match(username):
        raise InvalidInput("username must be 3-32 characters: letters, digits, '_', '.', '-'")
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(f"password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters long")


async def get_by_username(db: AsyncSession, *, username: str) -> User | None:
    """Return the user with this name (case-insensitive), if any."""
    return await db.scalar(select(User).where(User.username_key == username.lower()))


async def register(
    db: AsyncSession,
    *,
    username: str,
    password: str,
    make_admin: bool = False,
    invite: str | None = None,
) -> User:
    """Create an account; the very first account becomes an admin."""
    check_credentials_shape(username, password)
    if username.lower().startswith(DISCORD_NAME_PREFIX):
        raise InvalidInput(f"names starting with {DISCORD_NAME_PREFIX!r} are kept for Discord")
    password_hash = await hash_password(password)
    for may_be_first in (True, False):
        if await get_by_username(db, username=username):
            raise Conflict(f"username {username!r} is already taken")
        is_first = may_be_first and not await db.scalar(select(func.count()).select_from(User))
        user = User(
            username=username,
            username_key=username.lower(),
            password_hash=password_hash,
            is_admin=make_admin or is_first,
        )
        if invite is not None:
            await invites.redeem(db, code=invite, username=username)
        db.add(user)
        if is_first:
            # Two first registrations at once both saw no account: the unique key of this
            # row lets exactly one of them commit as the admin; the other retries as a member.
            db.add(AppSetting(key=FIRST_ADMIN_KEY, value=username))
        try:
            await db.flush()
            break
        except IntegrityError:
            await db.rollback()
            if not is_first:
                raise Conflict(f"username {username!r} is already taken") from None
    audit.record(db, action="user.register", actor_id=user.id, target=username)
    await db.commit()
    return user


async def authenticate(db: AsyncSession, *, username: str, password: str) -> User | None:
    """Return the user if the password is right and the account active."""
    user = await get_by_username(db, username=username)
    ok = await verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    if needs_rehash(user.password_hash):  # made with older argon2 parameters
        user.password_hash = await hash_password(password)
        await db.commit()
    return user


async def issue_token(
    db: AsyncSession,
    *,
    user: User,
    kind: TokenKind,
    name: str = "",
    lifetime: timedelta | None = None,
) -> tuple[str, AuthToken]:
    """Create a bearer token; the raw value is returned once and never stored."""
    name = name.strip()
    if len(name) > TOKEN_NAME_MAX:
        raise InvalidInput(f"token name must be at most {TOKEN_NAME_MAX} characters")
    if kind is TokenKind.API:
        if not name:
            raise InvalidInput("give the token a name so you can recognise it later")
        count = await db.scalar(
            select(func.count())
            .select_from(AuthToken)
            .where(AuthToken.user_id == user.id, AuthToken.kind == TokenKind.API)
        )
        if (count or 0) >= MAX_API_TOKENS:
            raise InvalidInput(f"at most {MAX_API_TOKENS} API tokens per account")
    raw = new_token(SESSION_TOKEN_PREFIX if kind is TokenKind.SESSION else API_TOKEN_PREFIX)
    token = AuthToken(
        user_id=user.id,
        kind=kind,
        name=name,
        digest=token_digest(raw),
        prefix=raw[:10],
        expires_at=utcnow() + lifetime if lifetime else None,
    )
    db.add(token)
    if kind is TokenKind.API:
        audit.record(db, action="token.create", actor_id=user.id, target=name)
    await db.commit()
    return raw, token


async def user_for_token(db: AsyncSession, *, raw: str) -> User | None:
    """Return the active user a bearer token belongs to, or None if invalid/expired."""
    if not raw.startswith((SESSION_TOKEN_PREFIX, API_TOKEN_PREFIX)):
        return None
    token = await db.scalar(select(AuthToken).where(AuthToken.digest == token_digest(raw)))
    if token is None:
        return None
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        await db.delete(token)
        await db.commit()
        return None
    user = await db.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        await db.commit()
    return user


async def revoke_token(db: AsyncSession, *, raw: str) -> None:
    """Delete the token with this raw value, if it exists (logout)."""
    token = await db.scalar(select(AuthToken).where(AuthToken.digest == token_digest(raw)))
    if token is not None:
        await db.delete(token)
        await db.commit()


async def usernames(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Return user id -> username for these users."""
    return {u.id: u.username for u in await db.scalars(select(User).where(User.id.in_(ids)))}


async def list_api_tokens(db: AsyncSession, *, user: User) -> list[AuthToken]:
    """Return the user's personal API tokens, newest first."""
    rows = await db.scalars(
        select(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.kind == TokenKind.API)
        .order_by(AuthToken.id.desc())
    )
    return list(rows)


async def delete_api_token(db: AsyncSession, *, user: User, token_id: int) -> None:
    """Revoke one of the user's API tokens."""
    token = await db.get(AuthToken, token_id)
    if token is None or token.user_id != user.id or token.kind is not TokenKind.API:
        raise NotFound("no such API token")
    await db.delete(token)
    audit.record(db, action="token.delete", actor_id=user.id, target=token.name)
    await db.commit()


def has_password(user: User) -> bool:
    """Return whether the account can log in with a password."""
    return user.password_hash != NO_PASSWORD


async def set_password(
    db: AsyncSession, *, user: User, current: str, new: str, keep: str | None = None
) -> None:
    """Set the account's password; an existing one must be given to change it.

    Every other login session ends (the one with raw token `keep` stays), as a password
    change after a leak must lock out whoever used it; personal API tokens stay.
    """
    if has_password(user) and not await verify_password(user.password_hash, current):
        raise Unauthenticated("the current password is wrong")
    check_credentials_shape(user.username, new)
    user.password_hash = await hash_password(new)
    others = delete(AuthToken).where(
        AuthToken.user_id == user.id, AuthToken.kind == TokenKind.SESSION
    )
    if keep:
        others = others.where(AuthToken.digest != token_digest(keep))
    await db.execute(others)
    audit.record(db, action="user.password", actor_id=user.id, target=user.username)
    await db.commit()


async def set_admin(db: AsyncSession, *, username: str, password: str) -> User:
    """Create an admin account, or promote and re-password an existing one (CLI)."""
    user = await get_by_username(db, username=username)
    if user is None:
        return await register(db, username=username, password=password, make_admin=True)
    check_credentials_shape(username, password)
    user.is_admin = True
    user.password_hash = await hash_password(password)
    audit.record(db, action="user.promote", actor_id=None, target=username)
    await db.commit()
    return user


async def login(
    db: AsyncSession,
    *,
    username: str,
    password: str,
    client: str,
    limiter: RateLimiter,
    address_limiter: RateLimiter,
    session_days: int,
) -> tuple[str, AuthToken]:
    """Check credentials under per-name-and-address and per-address throttles; return a token.

    Each attempt is counted before the password is verified, so parallel guesses cannot all
    be checked; a successful one is given back (only failures should lock anyone out).
    """
    identity = f"{username.lower()}|{client}"
    await guesses.take([(limiter, identity), (address_limiter, client)], "failed logins")
    user = await authenticate(db, username=username, password=password)
    if user is None:
        raise Unauthenticated("wrong username or password")
    await limiter.reset(identity)
    await address_limiter.give_back(client)
    return await issue_token(
        db, user=user, kind=TokenKind.SESSION, lifetime=timedelta(days=session_days)
    )
