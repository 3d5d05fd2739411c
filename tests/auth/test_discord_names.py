"""Names the bots give Discord users' accounts cannot be registered, and never lock anyone out."""

from __future__ import annotations

import httpx

from meatlizard.auth.models import User
from meatlizard.bots.links import account_for_discord
from meatlizard.runtime import Services
from tests.helpers import PASSWORD

DISCORD_ID = 123456789012345678


async def test_the_discord_prefix_cannot_be_registered(client: httpx.AsyncClient) -> None:
    for name in (f"discord-{DISCORD_ID}", f"Discord-{DISCORD_ID}", "DISCORD-x"):
        taken = await client.post(
            "/api/v1/auth/register", json={"username": name, "password": PASSWORD}
        )
        assert taken.status_code == 422, (name, taken.text)
        assert "kept for Discord" in taken.json()["detail"]


async def test_an_older_web_account_with_the_name_does_not_lock_the_discord_user_out(
    services: Services,
) -> None:
    async with services.sessions() as db:  # as registered before the prefix was kept
        squatter = f"discord-{DISCORD_ID}"
        db.add(User(username=squatter, username_key=squatter, password_hash="x"))
        await db.commit()
    async with services.sessions() as db:
        user = await account_for_discord(db, discord_id=DISCORD_ID)
        assert user.discord_id == str(DISCORD_ID)
        assert user.username.startswith(f"discord-{DISCORD_ID}-")
    async with services.sessions() as db:  # the same account every time after that
        again = await account_for_discord(db, discord_id=DISCORD_ID)
        assert again.id == user.id
