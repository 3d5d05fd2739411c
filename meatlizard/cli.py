"""The `meatlizard` command line: every command, registered in the order `--help` lists them."""

from __future__ import annotations

import typer

from meatlizard.commands.accounts import create_admin, keygen
from meatlizard.commands.backups import backup, backups, restore
from meatlizard.commands.bots import EXIT_CONFIG, client_bot, server_bot
from meatlizard.commands.common import settings_or_exit
from meatlizard.commands.dev import dev
from meatlizard.commands.models import models
from meatlizard.commands.server import WS_MAX_BYTES, migrate, serve, worker
from meatlizard.core.memory import release_large_blocks

__all__ = ["EXIT_CONFIG", "WS_MAX_BYTES", "app", "main", "settings_or_exit"]

app = typer.Typer(
    help="MeatLizard: AI chat and tools for Discord communities.", no_args_is_help=True
)


@app.callback()
def _process_setup() -> None:
    """MeatLizard: AI chat and tools for Discord communities."""
    # Before anything allocates: big freed blocks must go back to the system (see the module).
    release_large_blocks()


app.add_typer(dev, name="dev")
app.add_typer(models, name="models")
app.command()(serve)
app.command("client-bot")(client_bot)
app.command("server-bot")(server_bot)
app.command()(worker)
app.command()(migrate)
app.command()(backup)
app.command()(restore)
app.command()(backups)
app.command()(keygen)
app.command("create-admin")(create_admin)


def main() -> None:
    """Entry point for `python -m meatlizard`."""
    app(prog_name="meatlizard")


if __name__ == "__main__":
    main()
