"""argon2 parameters: OWASP's low-memory configuration, old hashes re-hashed at login, bounded."""

from __future__ import annotations

import asyncio
import threading

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select, update

from meatlizard.auth.models import User
from meatlizard.core import security
from meatlizard.runtime import Services
from tests.helpers import PASSWORD, login, register

OWASP_PARAMS = "m=19456,t=2,p=1"


async def _stored_hash(services: Services, username: str) -> str:
    async with services.sessions() as db:
        found = await db.scalar(select(User.password_hash).where(User.username == username))
    assert found is not None
    return found


async def test_new_hashes_use_owasp_parameters(
    client: httpx.AsyncClient, services: Services
) -> None:
    name = await register(client)
    stored = await _stored_hash(services, name)
    assert stored.startswith("$argon2id$v=19$" + OWASP_PARAMS + "$"), stored
    assert not security.needs_rehash(stored)


async def test_old_hash_still_logs_in_and_is_rehashed(
    client: httpx.AsyncClient, services: Services
) -> None:
    name = await register(client)
    # A hash made with argon2-cffi's defaults (64 MiB, t=3, p=4), as earlier versions stored.
    old = PasswordHasher().hash(PASSWORD)
    assert "m=65536,t=3,p=4" in old and security.needs_rehash(old)
    async with services.sessions() as db:
        await db.execute(update(User).where(User.username == name).values(password_hash=old))
        await db.commit()
    await login(client, name)
    renewed = await _stored_hash(services, name)
    assert renewed != old and OWASP_PARAMS in renewed
    await login(client, name)  # the new hash verifies too
    assert await _stored_hash(services, name) == renewed  # and is not rewritten again
    wrong = await client.post("/api/v1/auth/login", json={"username": name, "password": "x" * 9})
    assert wrong.status_code == 401


async def test_failed_login_leaves_old_hash_alone(
    client: httpx.AsyncClient, services: Services
) -> None:
    name = await register(client)
    old = PasswordHasher().hash(PASSWORD)
    async with services.sessions() as db:
        await db.execute(update(User).where(User.username == name).values(password_hash=old))
        await db.commit()
    wrong = await client.post("/api/v1/auth/login", json={"username": name, "password": "y" * 9})
    assert wrong.status_code == 401
    assert await _stored_hash(services, name) == old


async def test_a_burst_of_hashes_runs_on_a_bounded_pool() -> None:
    burst = 6 * security.MAX_CONCURRENT_HASHES
    hashes = await asyncio.gather(*(security.hash_password(f"pw-{i}") for i in range(burst)))
    checks = await asyncio.gather(
        *(security.verify_password(h, f"pw-{i}") for i, h in enumerate(hashes))
    )
    assert all(checks) and len(set(hashes)) == burst
    hashing_threads = [t for t in threading.enumerate() if t.name.startswith("argon2")]
    assert 1 <= len(hashing_threads) <= security.MAX_CONCURRENT_HASHES
