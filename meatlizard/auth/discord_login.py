"""Accounts behind "Log in with Discord": one-time login states, log in, sign up, link, unlink."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meatlizard.admin import audit
from meatlizard.auth.discord_oauth import DiscordIdentity, new_verifier
from meatlizard.auth.models import User
from meatlizard.auth.service import (
    DISCORD_NAME_PREFIX,
    NO_PASSWORD,
    get_by_username,
    has_password,
)
from meatlizard.core.cache import Cache
from meatlizard.core.errors import Conflict, Forbidden, InvalidInput

STATE_SECONDS = 600  # how long the Discord consent page may take
STATE_KEY = "discord-oauth:{}"
USED_KEY = "discord-oauth-used:{}"
NAME_MAX = 32
NAME_MIN = 3
NAME_ATTEMPTS = 20

Mode = Literal["login", "link"]


@dataclass(frozen=True)
class LoginState:
    """What the browser was doing when it left for Discord's consent page."""

    mode: Mode
    verifier: str
    next: str = "/chat"
    user_id: int | None = None  # the account to link (mode "link")


async def begin(cache: Cache, state: LoginState) -> str:
    """Remember a login attempt; return its random `state` value."""
    value = secrets.token_urlsafe(24)
    await cache.set(
        STATE_KEY.format(value), json.dumps(asdict(state)).encode(), ttl_seconds=STATE_SECONDS
    )
    return value


def new_state(mode: Mode, *, next: str = "/chat", user_id: int | None = None) -> LoginState:
    """Return a login attempt with a fresh PKCE verifier."""
    return LoginState(mode=mode, verifier=new_verifier(), next=next, user_id=user_id)


async def finish(cache: Cache, *, state: str, browser_state: str | None) -> LoginState:
    """Consume a login state once; refuse it if unknown, expired, reused or from another browser."""
    if not state or browser_state is None or not secrets.compare_digest(state, browser_state):
        raise Forbidden("this login link was not started in this browser; please start again")
    raw = await cache.get(STATE_KEY.format(state))
    if raw is None or not await cache.set_if_absent(
        USED_KEY.format(state), b"1", ttl_seconds=STATE_SECONDS
    ):
        raise Forbidden("this login link has expired or was already used; please start again")
    await cache.delete(STATE_KEY.format(state))
    return LoginState(**json.loads(raw))


async def account_of(db: AsyncSession, *, discord_id: int) -> User | None:
    """Return the account linked to this Discord user, if any."""
    return await db.scalar(select(User).where(User.discord_id == str(discord_id)))


def name_base(identity: DiscordIdentity) -> str:
    """Return a valid username stem from the Discord name (letters, digits, _ . -)."""
    for candidate in (identity.username, identity.global_name or ""):
        stem = re.sub(r"[^A-Za-z0-9_.-]", "", candidate)[: NAME_MAX - 5]
        if len(stem) >= NAME_MIN and not stem.lower().startswith(DISCORD_NAME_PREFIX):
            return stem
    return f"discord-{identity.id}"[:NAME_MAX]


async def free_username(db: AsyncSession, identity: DiscordIdentity) -> str:
    """Return an unused username derived from the Discord name."""
    stem = name_base(identity)
    if await get_by_username(db, username=stem) is None:
        return stem
    for _ in range(NAME_ATTEMPTS):
        candidate = f"{stem}-{secrets.randbelow(10_000):04d}"
        if await get_by_username(db, username=candidate) is None:
            return candidate
    return f"discord-{identity.id}"[:NAME_MAX]


async def log_in(db: AsyncSession, identity: DiscordIdentity) -> tuple[User, bool]:
    """Return the account linked to this Discord user, creating one; True when it is new."""
    user = await account_of(db, discord_id=identity.id)
    created = False
    if user is None:
        username = await free_username(db, identity)
        user = User(
            username=username,
            username_key=username.lower(),
            password_hash=NO_PASSWORD,
            discord_id=str(identity.id),
        )
        db.add(user)
        try:
            await db.flush()
        except IntegrityError:  # the bots or another tab created it meanwhile: use that one
            await db.rollback()
            user = await account_of(db, discord_id=identity.id)
            if user is None:
                raise Conflict("that username was just taken; please try again") from None
        else:
            audit.record(
                db, action="user.register.discord_oauth", actor_id=user.id, target=username
            )
            await db.commit()
            created = True
    if not user.is_active:
        raise Forbidden("your account is disabled; ask an admin")
    return user, created


async def link(db: AsyncSession, *, user_id: int, identity: DiscordIdentity) -> User:
    """Link a Discord user to an account, unless another account already has it."""
    user = await db.get(User, user_id)
    if user is None or not user.is_active:
        raise Forbidden("your account is no longer active")
    owner = await account_of(db, discord_id=identity.id)
    if owner is not None and owner.id != user.id:
        raise Conflict(
            f"the Discord account {identity.username!r} is already linked to another "
            "MeatLizard account; log in with Discord to use that account, or unlink it there"
        )
    if user.discord_id not in (None, str(identity.id)):
        raise Conflict("this account is already linked to another Discord account; unlink it first")
    user.discord_id = str(identity.id)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise Conflict("that Discord account was just linked to another account") from None
    audit.record(db, action="user.discord.link", actor_id=user.id, target=identity.username)
    await db.commit()
    return user


async def unlink(db: AsyncSession, *, user: User) -> None:
    """Remove the account's Discord link, but never the last way to log in."""
    if user.discord_id is None:
        raise InvalidInput("this account is not linked to Discord")
    if not has_password(user):
        raise Forbidden("set a password first: without Discord you would have no way to log in")
    user.discord_id = None
    audit.record(db, action="user.discord.unlink", actor_id=user.id, target=user.username)
    await db.commit()
