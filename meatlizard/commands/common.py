"""What every command shares: loading the settings, or stopping with one line per problem."""

from __future__ import annotations

import typer

from meatlizard.core.settings import Settings, SettingsError, load_settings


def settings_or_exit() -> Settings:
    """Load the settings, or stop with one clear line per bad setting."""
    try:
        return load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            typer.echo(f"meatlizard: {line}", err=True)
        raise typer.Exit(2) from None
