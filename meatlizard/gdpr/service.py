"""GDPR actions on one account: anonymise, export everything, delete."""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meatlizard.admin import audit
from meatlizard.admin.models import AuditEntry
from meatlizard.auth.models import AuthToken, User
from meatlizard.chat import branches, exports
from meatlizard.chat import service as chat_service
from meatlizard.chat.models import ChatMessage, ChatSession
from meatlizard.core.cache import Cache
from meatlizard.core.security import hash_password
from meatlizard.core.storage import ObjectStorage
from meatlizard.gdpr.providers import PROVIDERS, PersonalObject, cached_keys, forget_cached
from meatlizard.transcripts import service as transcripts
from meatlizard.transcripts.models import Transcript

ANON_PREFIX = "anon-"
ZIP64_LIMIT = 2**31  # larger entries need zip64 headers, declared before streaming


@dataclass
class AnonymizeReport:
    """Exactly what anonymising changed, told to the user."""

    anonymous_id: str
    sessions: int = 0
    messages_rewritten: int = 0
    audit_entries_rewritten: int = 0
    transcripts_rewritten: int = 0
    tokens_revoked: int = 0
    discord_link_removed: bool = False
    rewritten: dict[str, int] = field(default_factory=dict)  # other domains: rows changed


def _scrub(text: str, names: list[str], replacement: str) -> str:
    for name in names:
        if name:
            text = text.replace(name, replacement)
    return text


async def anonymize(
    sessions: async_sessionmaker[AsyncSession],
    storage: ObjectStorage,
    *,
    user_id: int,
    cache: Cache | None = None,
) -> AnonymizeReport:
    """Replace the user's identity everywhere by a stable anonymous id; log them out."""
    async with sessions() as db:
        user = await db.get(User, user_id)
        assert user is not None
        stale = await cached_keys(db, user)
        anon = (
            user.username
            if user.username.startswith(ANON_PREFIX)
            else ANON_PREFIX + secrets.token_hex(6)
        )
        names = [user.username, user.discord_id or ""]
        report = AnonymizeReport(anonymous_id=anon, discord_link_removed=bool(user.discord_id))
        chats = list(await db.scalars(select(ChatSession).where(ChatSession.user_id == user.id)))
        report.sessions = len(chats)
        for chat in chats:
            chat.title = _scrub(chat.title, names, anon)
            chat.system_prompt = _scrub(chat.system_prompt, names, anon)
            for message in await chat_service.all_messages(db, session_id=chat.id):
                scrubbed = _scrub(message.content, names, anon)
                if scrubbed != message.content:
                    message.content = scrubbed
                    report.messages_rewritten += 1
        entries = await db.scalars(
            select(AuditEntry).where(
                or_(AuditEntry.actor_id == user.id, AuditEntry.target == user.username)
            )
        )
        for entry in entries:
            entry.target = _scrub(entry.target, names, anon)
            entry.detail = json.loads(_scrub(json.dumps(entry.detail), names, anon))
            report.audit_entries_rewritten += 1
        for provider in PROVIDERS:
            report.rewritten[provider.name] = await provider.anonymize(
                db, user, lambda text: _scrub(text, names, anon)
            )
        tokens = await db.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
        report.tokens_revoked = int(getattr(tokens, "rowcount", 0) or 0)
        user.username = anon
        user.username_key = anon
        user.discord_id = None
        user.password_hash = await hash_password(secrets.token_urlsafe(32))
        audit.record(db, action="gdpr.anonymize", actor_id=user.id, target=anon)
        archived = [
            t.session_id
            for t in await db.scalars(select(Transcript).where(Transcript.user_id == user.id))
        ]
        await db.commit()
    await forget_cached(cache, stale)
    for session_id in archived:  # written again, now under the anonymous id
        if await transcripts.archive_session(sessions, storage, session_id) is not None:
            report.transcripts_rewritten += 1
    return report


async def export(db: AsyncSession, storage: ObjectStorage, *, user: User) -> IO[bytes]:
    """Return a zip (in a temporary file) of everything stored about the user."""
    chats = list(await db.scalars(select(ChatSession).where(ChatSession.user_id == user.id)))
    data: dict[str, Any] = {
        "account": {
            "id": user.id,
            "username": user.username,
            "is_admin": user.is_admin,
            "discord_id": user.discord_id,
            "created_at": user.created_at.isoformat(),
            "transcripts_default": user.transcripts_default,
        },
        "chat_sessions": [],
        "audit_log": [
            {"at": e.at.isoformat(), "action": e.action, "target": e.target, "detail": e.detail}
            for e in await db.scalars(select(AuditEntry).where(AuditEntry.actor_id == user.id))
        ],
    }
    for chat in chats:
        messages = await branches.tree(db, session_id=chat.id)
        data["chat_sessions"].append(json.loads(exports.export_json(chat, messages)))
    objects: list[PersonalObject] = []
    for provider in PROVIDERS:
        data[provider.name] = await provider.export(db, user)
        if provider.objects is not None:
            objects += [o for o in await provider.objects(db, user) if o.path is not None]
    archive = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meatlizard-export.json", json.dumps(data, indent=2, ensure_ascii=False))
        for record in await db.scalars(select(Transcript).where(Transcript.user_id == user.id)):
            for key in (record.json_key, record.csv_key):
                zf.writestr(key, await storage.get_bytes(key))
        for item in objects:
            await _copy_into(zf, storage, item)
    archive.seek(0)
    return archive


async def _copy_into(zf: zipfile.ZipFile, storage: ObjectStorage, item: PersonalObject) -> None:
    """Stream one stored object into the zip, chunk by chunk (stored, not recompressed)."""
    assert item.path is not None
    entry = zipfile.ZipInfo(item.path, date_time=time.gmtime()[:6])
    entry.compress_type = zipfile.ZIP_STORED
    with zf.open(entry, "w", force_zip64=item.size >= ZIP64_LIMIT) as dest:
        if item.size > 0:
            async for chunk in await storage.open_stream(item.key):
                await asyncio.to_thread(dest.write, chunk)


async def delete_account(
    db: AsyncSession, storage: ObjectStorage, *, user: User, cache: Cache | None = None
) -> dict[str, int]:
    """Delete the account and everything it owns; audit entries keep no name."""
    stale = await cached_keys(db, user)
    records = list(await db.scalars(select(Transcript).where(Transcript.user_id == user.id)))
    counts = {
        "chat_sessions": len(
            list(await db.scalars(select(ChatSession.id).where(ChatSession.user_id == user.id)))
        ),
        "transcripts": len(records),
    }
    message_count = await db.scalars(
        select(ChatMessage.id).join(ChatSession).where(ChatSession.user_id == user.id)
    )
    counts["messages"] = len(list(message_count))
    names = [user.username, user.discord_id or ""]
    objects: list[PersonalObject] = []
    folders: list[str] = []
    for provider in PROVIDERS:
        if provider.objects is not None:
            objects += await provider.objects(db, user)
        if provider.folders is not None:
            folders += await provider.folders(db, user)
        if removed := await provider.count(db, user):
            counts[provider.name] = removed
        # What outlives the account (e.g. reports kept for admins) keeps no name.
        await provider.anonymize(db, user, lambda text: _scrub(text, names, "deleted-user"))
    for entry in await db.scalars(select(AuditEntry).where(AuditEntry.target == user.username)):
        entry.target = "deleted-user"
    audit.record(db, action="gdpr.delete", actor_id=None, target="deleted-user")
    await db.delete(user)
    await db.commit()
    await forget_cached(cache, stale)
    # Objects after the rows: a crash in between leaves unreferenced files, never dangling rows.
    for record in records:
        for key in (record.json_key, record.csv_key):
            await storage.delete(key)
    for item in objects:
        if item.upload_token is not None:
            await storage.abort_upload(item.key, item.upload_token)
        else:
            await storage.delete(item.key)
    for folder in folders:
        for info in await storage.list(folder):
            await storage.delete(info.key)
    return counts


def report_dict(report: AnonymizeReport) -> dict[str, Any]:
    """Return the report as JSON-ready data."""
    return asdict(report)


__all__ = ["AnonymizeReport", "anonymize", "delete_account", "export", "report_dict"]
