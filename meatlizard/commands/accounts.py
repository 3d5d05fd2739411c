"""`meatlizard keygen` and `create-admin`: a payload key and the first admin account."""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated

import typer

from meatlizard.commands.common import settings_or_exit


def keygen() -> None:
    """Print a fresh PAYLOAD_ENCRYPTION_KEY (64 hex characters, 256 bits)."""
    typer.echo(secrets.token_hex(32))


def create_admin(
    username: Annotated[str, typer.Argument(help="Account name (created if missing).")],
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="New password."),
    ],
) -> None:
    """Create an admin account, or promote an existing one and set its password."""
    from meatlizard.auth import service
    from meatlizard.core.db import make_engine, make_session_factory
    from meatlizard.core.errors import ServiceError
    from meatlizard.core.migrate import upgrade

    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def _main() -> None:
        engine = make_engine(settings.effective_database_url)
        try:
            await upgrade(engine)
            async with make_session_factory(engine)() as db:
                await service.set_admin(db, username=username, password=password)
        finally:
            await engine.dispose()

    try:
        asyncio.run(_main())
    except ServiceError as exc:
        typer.echo(f"meatlizard: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{username} is an admin")
