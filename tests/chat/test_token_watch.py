"""Open sockets' tokens are checked together: one query a round, whatever the socket count."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from meatlizard.auth import service as auth_service
from meatlizard.auth.models import AuthToken, TokenKind, User
from meatlizard.auth.token_checks import good_token_digests
from meatlizard.chat.access import TokenWatch
from meatlizard.core.security import token_digest
from meatlizard.runtime import Services
from tests.helpers import PASSWORD, unique_name

ENDED_WITHIN_SECONDS = 10  # bound: a round every 0.05 s here


async def new_token(services: Services, lifetime: timedelta = timedelta(days=1)) -> str:
    async with services.sessions() as db:
        user = await auth_service.register(db, username=unique_name(), password=PASSWORD)
        raw, _ = await auth_service.issue_token(
            db, user=user, kind=TokenKind.SESSION, lifetime=lifetime
        )
    return raw


async def test_revoked_disabled_and_expired_tokens_end_their_sockets_only(
    services: Services,
) -> None:
    kept, revoked, disabled = [await new_token(services) for _ in range(3)]
    expired = await new_token(services, lifetime=timedelta(milliseconds=1))
    watch = CountedWatch(services.sessions, interval=0.05)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "auth_tokens.digest IN" in statement:  # the watch's check
            statements.append(statement)

    event.listen(services.engine.sync_engine, "before_cursor_execute", count)
    try:
        # Two sockets per token, as a user with two tabs open.
        sockets = {
            raw: [asyncio.create_task(watch.until_revoked(raw)) for _ in range(2)]
            for raw in (kept, revoked, disabled, expired)
        }
        async with services.sessions() as db:
            await auth_service.revoke_token(db, raw=revoked)
            token = await db.scalar(
                select(AuthToken).where(AuthToken.digest == token_digest(disabled))
            )
            assert token is not None
            user = await db.get(User, token.user_id)
            assert user is not None
            user.is_active = False
            await db.commit()
        ended = [t for raw in (revoked, disabled, expired) for t in sockets[raw]]
        await asyncio.wait_for(asyncio.gather(*ended), ENDED_WITHIN_SECONDS)
        await asyncio.wait_for(_rounds_pass(watch, 3), ENDED_WITHIN_SECONDS)
        assert not any(t.done() for t in sockets[kept])  # the good token's sockets stay open
        checks = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        # One SELECT a round for the 8 sockets (not one per socket or per token); the round
        # under way now may have made its query without being counted yet.
        assert watch.rounds >= 3
        assert len(checks) <= watch.rounds + 1, (len(checks), watch.rounds)
        for task in sockets[kept]:
            task.cancel()
        await asyncio.gather(*sockets[kept], return_exceptions=True)
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", count)
        await watch.close()


async def test_the_check_notes_the_tokens_last_use(services: Services) -> None:
    raw = await new_token(services)
    digest = token_digest(raw)
    query = select(AuthToken.last_used_at).where(AuthToken.digest == digest)
    async with services.sessions() as db:
        assert await db.scalar(query) is None  # issued, never used
        assert await good_token_digests(db, [digest, "0" * 64]) == {digest}
    async with services.sessions() as db:
        assert await db.scalar(query) is not None


class CountedWatch(TokenWatch):
    """A TokenWatch that counts its rounds and tells the test each time one has been made."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checked = asyncio.Event()
        self.rounds = 0  # checks made (each one query, whatever the number of sockets)

    async def _still_good(self, digests: list[str]) -> set[str]:
        good = await super()._still_good(digests)
        self.rounds += 1
        self.checked.set()
        return good


async def _rounds_pass(watch: CountedWatch, count: int) -> None:
    for _ in range(count):
        watch.checked.clear()
        await watch.checked.wait()
