"""Where settings come from: arguments, the environment, then an optional YAML file."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    YamlConfigSettingsSource,
)

CONFIG_FILE_ENV = "MEATLIZARD_CONFIG"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


def settings_sources(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """Return the sources in priority order; MEATLIZARD_CONFIG names the YAML file."""
    sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
    config_file = os.environ.get(CONFIG_FILE_ENV)
    if config_file:
        if not Path(config_file).is_file():
            raise SettingsError(f"{CONFIG_FILE_ENV}: no such file {config_file!r}")
        sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
    return tuple(sources)
