"""Paste logic: create, read (honouring expiry, password, burn-after-read), delete, sweep."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from meatlizard.auth.models import User
from meatlizard.core.db import checkpoint, utcnow
from meatlizard.core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from meatlizard.core.guesses import Guesses
from meatlizard.core.lifetimes import EXPIRY
from meatlizard.core.security import hash_password, same_secret, verify_password
from meatlizard.pastes.content import check_ciphertext, known_language
from meatlizard.pastes.highlight import content_version
from meatlizard.pastes.models import Paste
from meatlizard.pastes.policy import PastePolicy
from meatlizard.pastes.pool import highlight_new
from meatlizard.pastes.schemas import PasteCreate

GONE = "no such paste (it may have expired or been burned)"
SWEEP_BATCH_ROWS = 200  # pastes deleted per transaction by the sweep
WITH_RENDERING = (undefer(Paste.rendered_z),)  # built once: making the option costs per request


class TooLarge(InvalidInput):
    """The paste exceeds the size limit (HTTP 413 at the edge)."""


class PasswordRequired(Forbidden):
    """The paste is password-protected and the password was missing or wrong."""


class ConfirmBurn(Forbidden):
    """A burn-after-read paste was fetched without the reader confirming (a link preview?)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def build_paste(
    *, owner: User | None, data: PasteCreate, policy: PastePolicy
) -> tuple[Paste, str | None]:
    """Check a new paste against the policy and prepare it unsaved, with its delete token."""
    size = len(data.content.encode())
    if size > policy.max_bytes:
        raise TooLarge(f"paste is {size} bytes; the limit is {policy.max_bytes}")
    if owner is None and not policy.allow_anonymous:
        raise Unauthenticated("anonymous pastes are disabled here; log in first")
    if data.visibility == "private" and owner is None:
        raise InvalidInput("private pastes need an account; log in first")
    if data.encrypted:
        check_ciphertext(data.content)
        # Ciphertext tells nothing about its language and is never highlighted here.
        language = known_language(data.language) if data.language else "text"
        rendered = version = None
    else:
        # Guessing and highlighting run every lexer over the text: off the event loop, once.
        language, rendered = await highlight_new(data.content, data.language, policy.highlighters)
        version = content_version(data.content, language)
    lifetime = EXPIRY[data.expires_in or policy.default_expiry]
    delete_token = secrets.token_urlsafe(18) if owner is None else None
    paste = Paste(
        owner_id=owner.id if owner else None,
        title=data.title,
        language=language,
        content=data.content,
        rendered=rendered,
        rendered_version=version,
        size=size,
        visibility=data.visibility,
        burn_after_read=data.burn_after_read,
        encrypted=data.encrypted,
        password_hash=await hash_password(data.password) if data.password else None,
        delete_token_hash=_digest(delete_token) if delete_token else None,
        expires_at=utcnow() + lifetime if lifetime else None,
    )
    return paste, delete_token


async def save_paste(db: AsyncSession, paste: Paste) -> Paste:
    """Store a prepared paste."""
    db.add(paste)
    await db.commit()
    return paste


async def create_paste(
    db: AsyncSession, *, owner: User | None, data: PasteCreate, policy: PastePolicy
) -> tuple[Paste, str | None]:
    """Store a new paste; return it and, for anonymous pastes, its one-time delete token."""
    paste, delete_token = await build_paste(owner=owner, data=data, policy=policy)
    return await save_paste(db, paste), delete_token


async def find_paste(
    db: AsyncSession, *, paste_id: str, viewer: User | None, rendered: bool = False
) -> Paste:
    """Return a live paste the viewer may know about, without reading (or burning) it."""
    paste = await db.get(Paste, paste_id, options=WITH_RENDERING if rendered else None)
    if paste is None or _is_expired(paste, utcnow()):
        raise NotFound(GONE)
    if paste.visibility == "private" and (viewer is None or viewer.id != paste.owner_id):
        raise NotFound(GONE)
    return paste


def _is_expired(paste: Paste, now: datetime) -> bool:
    return paste.expires_at is not None and paste.expires_at <= now


async def read_paste(
    db: AsyncSession,
    *,
    paste_id: str,
    viewer: User | None,
    password: str | None = None,
    guesses: Guesses,
    rendered: bool = False,
    confirmed: bool = True,
) -> Paste:
    """Return a readable paste; a burn-after-read paste is handed to exactly one reader.

    With `confirmed` false (a plain page view) a burn-after-read paste is not burned: the
    reader must confirm first, so link-preview bots fetching the page cannot destroy it. A
    password form is a confirmation already.
    """
    paste = await find_paste(db, paste_id=paste_id, viewer=viewer, rendered=rendered)
    if paste.burn_after_read and not confirmed and paste.password_hash is None:
        raise ConfirmBurn("this paste is deleted once read: confirm to read it")
    if paste.password_hash is not None:
        if password:
            await guesses.take("paste", paste.id)  # counted first: parallel guesses too
        if not (password and await verify_password(paste.password_hash, password)):
            raise PasswordRequired("this paste needs the right password")
    if paste.burn_after_read:
        # The DELETE is the lock: only the reader whose delete removed the row sees it.
        result = await db.execute(delete(Paste).where(Paste.id == paste_id))
        await db.commit()
        if getattr(result, "rowcount", 0) != 1:
            raise NotFound(GONE)
    return paste


async def delete_paste(
    db: AsyncSession, *, paste_id: str, user: User | None, token: str | None = None
) -> None:
    """Delete a paste as its owner, an admin, or with its delete token."""
    paste = await db.get(Paste, paste_id)
    if paste is None:
        raise NotFound("no such paste")
    by_token = bool(token and paste.delete_token_hash) and same_secret(
        _digest(token or ""), paste.delete_token_hash or ""
    )
    by_user = user is not None and (user.id == paste.owner_id or user.is_admin)
    if not (by_token or by_user) and paste.visibility == "private":
        raise NotFound("no such paste")  # as when reading it: its existence stays private
    if not (by_token or by_user):
        raise Forbidden("only the owner or the delete token can delete this paste")
    await db.delete(paste)
    await db.commit()


async def list_pastes(db: AsyncSession, *, owner: User) -> list[Paste]:
    """List your pastes, newest first."""
    rows = await db.scalars(
        select(Paste).where(Paste.owner_id == owner.id).order_by(Paste.created_at.desc())
    )
    return list(rows)


async def pastes_for_my_stuff(db: AsyncSession, *, user: User, everyone: bool) -> list[Paste]:
    """List the user's pastes (or, with `everyone`, all pastes), newest first."""
    query = select(Paste).order_by(Paste.created_at.desc())
    if not everyone:
        query = query.where(Paste.owner_id == user.id)
    return list(await db.scalars(query))


async def sweep_expired(db: AsyncSession, *, batch_rows: int = SWEEP_BATCH_ROWS) -> int:
    """Delete expired pastes in batches, one commit each; return how many went.

    One large delete would put every freed page into a single write-ahead log transaction.
    """
    now = utcnow()
    doomed = select(Paste.id).where(Paste.expires_at <= now).limit(batch_rows)
    swept = 0
    while True:
        result = await db.execute(
            delete(Paste).where(Paste.id.in_(doomed.scalar_subquery())),
            execution_options={"synchronize_session": False},
        )
        await db.commit()
        went = int(getattr(result, "rowcount", 0) or 0)
        swept += went
        if went < batch_rows:
            break
    if swept:
        await checkpoint(db)
    return swept
