"""One settings object for every process, read from the environment and an optional YAML file.

The groups are declared in `meatlizard.core.settings`; this module keeps the names the rest of
the code imports.
"""

from meatlizard.core.settings import (
    BUNDLED_ALIAS,
    CONFIG_FILE_ENV,
    HEX_KEY_RE,
    MIN_MODEL_WINDOW,
    MODEL_REGISTRY,
    RATE_RE,
    RATE_WINDOW_SECONDS,
    Rate,
    Settings,
    SettingsError,
    bundled_model_path,
    describe_validation_error,
    discord_problem,
    load_settings,
    registered_models,
)

__all__ = [
    "BUNDLED_ALIAS",
    "CONFIG_FILE_ENV",
    "HEX_KEY_RE",
    "MIN_MODEL_WINDOW",
    "MODEL_REGISTRY",
    "RATE_RE",
    "RATE_WINDOW_SECONDS",
    "Rate",
    "Settings",
    "SettingsError",
    "bundled_model_path",
    "describe_validation_error",
    "discord_problem",
    "load_settings",
    "registered_models",
]
